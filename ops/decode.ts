/**
 * Showing records to a person: Glue-framed values (core/glue-wire-format.ts) as the JSON
 * they frame, dead letters and other plain JSON as JSON, anything else as text or base64. Never
 * throws: a record that cannot be decoded is shown with the reason.
 */
import { type Compression, decode, looksFramed } from '../core/glue-wire-format';
import type { ReadRecord } from './read';

/** What a value turned out to be. */
export type DecodedValue =
  | {
      readonly format: 'glue';
      readonly schemaVersionId: string;
      readonly compression: Compression;
      readonly json: unknown;
    }
  | { readonly format: 'json'; readonly json: unknown }
  | { readonly format: 'text'; readonly text: string }
  | { readonly format: 'bytes'; readonly base64: string; readonly error?: string }
  | { readonly format: 'null' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Decodes a record value. */
export function decodeValue(value: Buffer | null): DecodedValue {
  if (value === null) return { format: 'null' };
  if (looksFramed(value)) {
    try {
      const framed = decode(value);
      const payload = text(framed.payload);
      if (payload === undefined) throw new Error('the framed payload is not UTF-8');
      return {
        format: 'glue',
        schemaVersionId: framed.schemaVersionId,
        compression: framed.compression,
        json: JSON.parse(payload),
      };
    } catch (error) {
      return { format: 'bytes', base64: value.toString('base64'), error: (error as Error).message };
    }
  }
  const asText = text(value);
  if (asText === undefined) return { format: 'bytes', base64: value.toString('base64') };
  try {
    return { format: 'json', json: JSON.parse(asText) };
  } catch {
    return { format: 'text', text: asText };
  }
}

/** Bytes as text when they are printable UTF-8, else `base64:<...>`. */
export function bytesText(bytes: Buffer | null): string | null {
  if (bytes === null) return null;
  const asText = text(bytes);
  // Control characters would garble a terminal; tabs and newlines are fine in a value but not a key.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting them is the point
  return asText !== undefined && !/[\u0000-\u001f\u007f]/.test(asText)
    ? asText
    : `base64:${bytes.toString('base64')}`;
}

/** A record as JSON-friendly data: what `tail --json` prints and the live view receives. */
export interface RecordView {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: string;
  readonly key: string | null;
  /** Header values by name, as text (or `base64:...`); a repeated name gives several values. */
  readonly headers: readonly { readonly name: string; readonly value: string | null }[];
  readonly value: DecodedValue;
}

/** The {@link RecordView} of a record. */
export function recordView(record: ReadRecord): RecordView {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: String(record.offset),
    timestamp: new Date(record.timestamp).toISOString(),
    key: bytesText(record.key),
    headers: record.headers.map(([name, value]) => ({ name, value: bytesText(value) })),
    value: decodeValue(record.value),
  };
}

/** A record as a few lines of text for a terminal. */
export function formatRecord(view: RecordView): string {
  const v = view.value;
  const value =
    v.format === 'glue'
      ? `glue ${v.schemaVersionId}${v.compression === 'zlib' ? ' zlib' : ''} ${JSON.stringify(v.json)}`
      : v.format === 'json'
        ? `json ${JSON.stringify(v.json)}`
        : v.format === 'text'
          ? `text ${JSON.stringify(v.text)}`
          : v.format === 'null'
            ? 'null'
            : `bytes base64:${v.base64}${v.error ? ` (${v.error})` : ''}`;
  const headers = view.headers.map((h) => `${h.name}=${h.value}`).join(' ');
  return [
    `${view.topic} partition ${view.partition} offset ${view.offset}  ${view.timestamp}  key=${view.key ?? '(none)'}`,
    `  headers: ${headers || '(none)'}`,
    `  value:   ${value}`,
  ].join('\n');
}
