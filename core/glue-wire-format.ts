/**
 * AWS Glue Schema Registry wire format: an 18-byte header followed by the serialized payload.
 *
 *   byte 0      header version, always 0x03
 *   byte 1      compression: 0x00 none, 0x05 zlib
 *   bytes 2-17  the schema version id (a UUID, 16 bytes, big-endian as written by java.util.UUID)
 *   bytes 18-   the payload (here: UTF-8 JSON), zlib-compressed when byte 1 is 0x05
 *
 * Source: awslabs/aws-glue-schema-registry, `AWSSchemaRegistryConstants` (HEADER_VERSION_BYTE = 3,
 * COMPRESSION_BYTE = 5, COMPRESSION_DEFAULT_BYTE = 0, SCHEMA_VERSION_ID_SIZE = 16) and
 * `AWSCompressionHandler`/`AWSDeserializer`, which compress with java.util.zip.Deflater in its
 * default (zlib-wrapped, RFC 1950) mode. There is no official JavaScript serializer.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { formatUuid } from './uuid';

const HEADER_VERSION = 0x03;
const COMPRESSION_NONE = 0x00;
export const COMPRESSION_ZLIB = 0x05;
export const HEADER_LENGTH = 18;

/** Decompressed payloads larger than this are refused (Lambda's 6 MB invoke payload cap). */
const DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export type Compression = 'none' | 'zlib';

/** Why a buffer is not a valid Glue-framed record. */
export type GlueWireFormatErrorCode =
  | 'TOO_SHORT'
  | 'UNKNOWN_HEADER_VERSION'
  | 'UNKNOWN_COMPRESSION'
  | 'BAD_ZLIB_STREAM'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_SCHEMA_VERSION_ID';

/** Raised for any malformed input; `code` says what was wrong, `offset` where. */
export class GlueWireFormatError extends Error {
  override readonly name = 'GlueWireFormatError';
  constructor(
    readonly code: GlueWireFormatErrorCode,
    message: string,
    readonly offset: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface DecodedRecord {
  /** Schema version id in canonical lowercase UUID form. */
  readonly schemaVersionId: string;
  readonly compression: Compression;
  /** The payload, decompressed. */
  readonly payload: Buffer;
}

export interface EncodeOptions {
  /** @default 'none' */
  readonly compression?: Compression;
}

export interface DecodeOptions {
  /** Refuse payloads that decompress to more than this many bytes. @default 6 MiB */
  readonly maxPayloadBytes?: number;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Frames `payload` for `schemaVersionId`. */
export function encode(schemaVersionId: string, payload: Uint8Array, options: EncodeOptions = {}): Buffer {
  const compression = options.compression ?? 'none';
  const body = compression === 'zlib' ? deflateSync(payload) : payload;
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.byteLength);
  out[0] = HEADER_VERSION;
  out[1] = compression === 'zlib' ? COMPRESSION_ZLIB : COMPRESSION_NONE;
  uuidToBytes(schemaVersionId).copy(out, 2);
  out.set(body, HEADER_LENGTH);
  return out;
}

/**
 * Frames the JSON text `json` for `schemaVersionId`, uncompressed: the same bytes as
 * `encode(schemaVersionId, Buffer.from(json, 'utf8'))`, written in one pass into a shared slab (as
 * Node's `Buffer.from` does with its pool for small strings) instead of encoding the text into a
 * buffer of its own, measuring it and copying it after the header. The result is a view of the slab:
 * do not write into it.
 */
export function encodeJson(schemaVersionId: string, json: string): Buffer {
  const id = uuidToBytes(schemaVersionId);
  // A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, two units, takes 4).
  const most = HEADER_LENGTH + json.length * 3;
  if (most > SLAB_BYTES - slabOffset) {
    if (most > SLAB_BYTES / 4) {
      const out = Buffer.allocUnsafe(HEADER_LENGTH + Buffer.byteLength(json, 'utf8'));
      out[0] = HEADER_VERSION;
      out[1] = COMPRESSION_NONE;
      out.set(id, 2);
      out.write(json, HEADER_LENGTH, 'utf8');
      return out;
    }
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabOffset = 0;
  }
  const start = slabOffset;
  slab[start] = HEADER_VERSION;
  slab[start + 1] = COMPRESSION_NONE;
  slab.set(id, start + 2);
  const end = start + HEADER_LENGTH + slab.write(json, start + HEADER_LENGTH, 'utf8');
  slabOffset = (end + 7) & ~7;
  return slab.subarray(start, end);
}

/** The slab {@link encodeJson} frames small records into; a new one once it is full. */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabOffset = 0;

/** Reads a framed record, or throws a {@link GlueWireFormatError} saying what is wrong. */
export function decode(record: Uint8Array, options: DecodeOptions = {}): DecodedRecord {
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const buffer = Buffer.isBuffer(record)
    ? record
    : Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (buffer.byteLength < HEADER_LENGTH) {
    throw new GlueWireFormatError(
      'TOO_SHORT',
      `record is ${buffer.byteLength} bytes, shorter than the ${HEADER_LENGTH}-byte Glue Schema Registry header`,
      buffer.byteLength,
    );
  }
  if (buffer[0] !== HEADER_VERSION) {
    throw new GlueWireFormatError(
      'UNKNOWN_HEADER_VERSION',
      `byte 0 is ${hex(buffer[0])}, expected the Glue Schema Registry header version ${hex(HEADER_VERSION)}`,
      0,
    );
  }
  const compressionByte = buffer[1];
  let compression: Compression;
  if (compressionByte === COMPRESSION_NONE) compression = 'none';
  else if (compressionByte === COMPRESSION_ZLIB) compression = 'zlib';
  else {
    throw new GlueWireFormatError(
      'UNKNOWN_COMPRESSION',
      `byte 1 is ${hex(compressionByte)}, expected compression ${hex(COMPRESSION_NONE)} (none) or ${hex(COMPRESSION_ZLIB)} (zlib)`,
      1,
    );
  }
  const schemaVersionId = formatUuid(buffer.subarray(2, HEADER_LENGTH));
  const body = buffer.subarray(HEADER_LENGTH);
  let payload: Buffer;
  if (compression === 'zlib') {
    try {
      payload = inflateSync(body, { maxOutputLength: maxPayloadBytes });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        throw new GlueWireFormatError(
          'PAYLOAD_TOO_LARGE',
          `zlib payload inflates to more than ${maxPayloadBytes} bytes`,
          HEADER_LENGTH,
          { cause: error },
        );
      }
      throw new GlueWireFormatError(
        'BAD_ZLIB_STREAM',
        `payload is not a valid zlib stream: ${(error as Error).message}`,
        HEADER_LENGTH,
        { cause: error },
      );
    }
  } else {
    if (body.byteLength > maxPayloadBytes) {
      throw new GlueWireFormatError(
        'PAYLOAD_TOO_LARGE',
        `payload is ${body.byteLength} bytes, more than the ${maxPayloadBytes}-byte limit`,
        HEADER_LENGTH,
      );
    }
    payload = body;
  }
  return { schemaVersionId, compression, payload };
}

/** Whether `record` starts like a Glue-framed record (header version byte and a known compression). */
export function looksFramed(record: Uint8Array): boolean {
  return (
    record.byteLength >= HEADER_LENGTH &&
    record[0] === HEADER_VERSION &&
    (record[1] === COMPRESSION_NONE || record[1] === COMPRESSION_ZLIB)
  );
}

/** Schema version ids seen, as bytes: a function writes a handful of them, once per record each. */
const idBytes = new Map<string, Buffer>();

function uuidToBytes(id: string): Buffer {
  let bytes = idBytes.get(id);
  if (!bytes) {
    if (!UUID_PATTERN.test(id)) {
      throw new GlueWireFormatError(
        'INVALID_SCHEMA_VERSION_ID',
        `schema version id "${id}" is not a UUID`,
        2,
      );
    }
    bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
    if (idBytes.size >= 1024) idBytes.clear();
    idBytes.set(id, bytes);
  }
  return bytes;
}

function hex(byte: number | undefined): string {
  return `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;
}
