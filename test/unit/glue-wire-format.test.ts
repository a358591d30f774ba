import { deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  COMPRESSION_ZLIB,
  decode,
  encode,
  encodeJson,
  GlueWireFormatError,
  type GlueWireFormatErrorCode,
  HEADER_LENGTH,
  looksFramed,
} from '../../core/glue-wire-format';
import { eventExamples } from '../../schemas/examples';
import { thrownBy } from '../support/errors';

const SCHEMA_VERSION_ID = 'b7b4a7f0-0f6e-4c5a-9a4f-3f2a1c0d9e8b';
const json = Buffer.from(JSON.stringify(eventExamples.order_created[0]));

describe('Glue Schema Registry wire format', () => {
  it('writes the 18-byte header: version 3, compression byte, schema version UUID', () => {
    const framed = encode(SCHEMA_VERSION_ID, json);
    expect(framed.byteLength).toBe(HEADER_LENGTH + json.byteLength);
    expect(framed[0]).toBe(0x03);
    expect(framed[1]).toBe(0x00);
    expect(framed.subarray(2, 18).toString('hex')).toBe(SCHEMA_VERSION_ID.replaceAll('-', ''));
    expect(framed.subarray(18).equals(json)).toBe(true);
  });

  it.each(['none', 'zlib'] as const)('round-trips a payload with compression %s', (compression) => {
    const decoded = decode(encode(SCHEMA_VERSION_ID, json, { compression }));
    expect(decoded).toEqual({ schemaVersionId: SCHEMA_VERSION_ID, compression, payload: json });
  });

  it('round-trips an empty payload and a 1 MiB one', () => {
    const big = Buffer.alloc(1024 * 1024, 'a');
    for (const payload of [Buffer.alloc(0), big]) {
      expect(
        decode(encode(SCHEMA_VERSION_ID, payload, { compression: 'zlib' })).payload.equals(payload),
      ).toBe(true);
    }
  });

  it('normalises the schema version id to lowercase', () => {
    const framed = encode(SCHEMA_VERSION_ID.toUpperCase(), json);
    expect(decode(framed).schemaVersionId).toBe(SCHEMA_VERSION_ID);
  });

  it('decodes a record framed as the Java serializer frames it (zlib with RFC 1950 header)', () => {
    // Built by hand as awslabs/aws-glue-schema-registry writes it: java.util.zip.Deflater() default,
    // which emits the zlib wrapper, after the header bytes 0x03 0x05 and the UUID's 16 bytes.
    const record = Buffer.concat([
      Buffer.from([0x03, COMPRESSION_ZLIB]),
      Buffer.from(SCHEMA_VERSION_ID.replaceAll('-', ''), 'hex'),
      deflateSync(json),
    ]);
    expect(decode(record).payload.toString()).toBe(json.toString());
    expect(looksFramed(record)).toBe(true);
  });

  it('decodes a view into a larger buffer without reading outside it', () => {
    const framed = encode(SCHEMA_VERSION_ID, json);
    const host = new Uint8Array(framed.byteLength + 20);
    host.set(framed, 10);
    const view = host.subarray(10, 10 + framed.byteLength);
    expect(decode(view).payload.toString()).toBe(json.toString());
  });

  const malformed: { why: string; record: Uint8Array; code: GlueWireFormatErrorCode; message: RegExp }[] = [
    {
      why: 'an empty buffer',
      record: Buffer.alloc(0),
      code: 'TOO_SHORT',
      message: /0 bytes, shorter than the 18-byte/,
    },
    {
      why: 'a buffer cut inside the UUID',
      record: encode(SCHEMA_VERSION_ID, json).subarray(0, 17),
      code: 'TOO_SHORT',
      message: /17 bytes/,
    },
    {
      why: 'plain JSON without a header',
      record: json,
      code: 'UNKNOWN_HEADER_VERSION',
      message: /byte 0 is 0x7b/,
    },
    {
      why: 'a Confluent-framed record',
      record: Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), json]),
      code: 'UNKNOWN_HEADER_VERSION',
      message: /byte 0 is 0x00, expected .* 0x03/,
    },
    {
      why: 'an unknown compression byte',
      record: Buffer.from([0x03, 0x01, ...Buffer.alloc(16), ...json]),
      code: 'UNKNOWN_COMPRESSION',
      message: /byte 1 is 0x01/,
    },
    {
      why: 'compression byte 5 on an uncompressed payload',
      record: Buffer.from([0x03, 0x05, ...Buffer.alloc(16), ...json]),
      code: 'BAD_ZLIB_STREAM',
      message: /not a valid zlib stream/,
    },
    {
      why: 'raw deflate without the zlib wrapper',
      record: Buffer.from([0x03, 0x05, ...Buffer.alloc(16), ...deflateRawSync(json)]),
      code: 'BAD_ZLIB_STREAM',
      message: /not a valid zlib stream/,
    },
    {
      why: 'a truncated zlib stream',
      record: encode(SCHEMA_VERSION_ID, json, { compression: 'zlib' }).subarray(0, 30),
      code: 'BAD_ZLIB_STREAM',
      message: /not a valid zlib stream/,
    },
  ];

  it.each(malformed)('rejects $why with $code', ({ record, code, message }) => {
    const error = thrownBy(GlueWireFormatError, () => decode(record));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('refuses a zlib bomb beyond the payload limit instead of inflating it', () => {
    const bomb = encode(SCHEMA_VERSION_ID, Buffer.alloc(8 * 1024 * 1024), { compression: 'zlib' });
    expect(bomb.byteLength).toBeLessThan(20_000);
    const error = thrownBy(GlueWireFormatError, () => decode(bomb));
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(
      thrownBy(GlueWireFormatError, () => decode(encode(SCHEMA_VERSION_ID, json), { maxPayloadBytes: 10 }))
        .code,
    ).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses to frame with a schema version id that is not a UUID', () => {
    expect(thrownBy(GlueWireFormatError, () => encode('user_registered-v1', json)).code).toBe(
      'INVALID_SCHEMA_VERSION_ID',
    );
  });

  it('frames JSON text byte for byte as the header followed by the UTF-8 of the text', () => {
    // What the producer and the consumers write: 0x03, 0x00, the 16 bytes of the id, the JSON.
    const texts = [
      json.toString(),
      '',
      JSON.stringify({ name: 'Zoë Ångström', city: 'Kraków', note: 'ключ 🔑 \u{10FFFF}', lone: '\ud800' }),
      '{"raw":"\ud800 a lone surrogate, written as U+FFFD"}',
      JSON.stringify({ filler: 'x'.repeat(20_000) }),
      JSON.stringify({ filler: 'é'.repeat(9_000) }),
    ];
    for (const text of texts) {
      const expected = Buffer.concat([
        Buffer.from([0x03, 0x00]),
        Buffer.from(SCHEMA_VERSION_ID.replaceAll('-', ''), 'hex'),
        Buffer.from(text, 'utf8'),
      ]);
      const framed = encodeJson(SCHEMA_VERSION_ID, text);
      expect(framed.equals(expected)).toBe(true);
      expect(decode(framed).payload.equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
  });

  it('keeps every framed record intact while later ones are framed', () => {
    // Small records share buffers: none may be overwritten by the records framed after it.
    const texts = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ i, pad: 'ü'.repeat(i % 97) }));
    const framed = texts.map((t) => encodeJson(SCHEMA_VERSION_ID, t));
    texts.forEach((t, i) => {
      expect(framed[i]?.equals(encode(SCHEMA_VERSION_ID, Buffer.from(t, 'utf8')))).toBe(true);
    });
  });

  it('refuses to frame JSON text with a schema version id that is not a UUID', () => {
    expect(thrownBy(GlueWireFormatError, () => encodeJson('user_registered-v1', '{}')).code).toBe(
      'INVALID_SCHEMA_VERSION_ID',
    );
  });

  it('tells framed from unframed records', () => {
    expect(looksFramed(encode(SCHEMA_VERSION_ID, json))).toBe(true);
    expect(looksFramed(json)).toBe(false);
    expect(looksFramed(Buffer.from([0x03, 0x00]))).toBe(false);
  });
});
