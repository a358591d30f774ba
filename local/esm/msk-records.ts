/**
 * Kafka records as an MSK event-source mapping hands them to a function: the local runtime and the
 * tests build the invocation event from what a kafkajs consumer read.
 */
import type { KafkaMessage } from 'kafkajs';
import { type MskEvent, type MskRecord, type MskSchemaMetadata, signedBytes } from '../../core/msk-event';

/** How a record is delivered, when not as read. */
export interface MskDelivery {
  /**
   * The value to deliver when it is not the record's own (the schema-registry step delivers the
   * payload without its Glue header). @default the record's value
   */
  readonly value?: Buffer | null;
  /** What the schema-registry step says of the value (EventRecordFormat JSON). */
  readonly valueSchemaMetadata?: MskSchemaMetadata;
}

/**
 * One consumed record in the MSK event's record shape (base64 key and value, signed header byte
 * arrays), encoded from the Buffers kafkajs read, without copying them first. `delivery`: what the
 * schema-registry step delivers instead of the value as read.
 */
export function toMskRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  logAppendTime = false,
  delivery: MskDelivery = {},
): MskRecord {
  const value = delivery.value === undefined ? message.value : delivery.value;
  const headers: Record<string, number[]>[] = [];
  const source = message.headers;
  if (source)
    for (const name in source) {
      const header = source[name];
      if (Array.isArray(header)) {
        for (const v of header) if (v !== undefined) headers.push({ [name]: headerBytes(v) });
      } else if (header !== undefined) headers.push({ [name]: headerBytes(header) });
    }
  const offset = Number(message.offset);
  const timestamp = Number(message.timestamp);
  const timestampType = logAppendTime ? 'LOG_APPEND_TIME' : 'CREATE_TIME';
  const encoded = value === null ? null : value.toString('base64');
  const key = message.key === null ? undefined : message.key.toString('base64');
  // Built in one go (no spread, no property added afterwards): one object per record.
  const metadata = delivery.valueSchemaMetadata;
  if (key === undefined)
    return metadata
      ? {
          topic,
          partition,
          offset,
          timestamp,
          timestampType,
          value: encoded,
          headers,
          valueSchemaMetadata: metadata,
        }
      : { topic, partition, offset, timestamp, timestampType, value: encoded, headers };
  return metadata
    ? {
        topic,
        partition,
        offset,
        timestamp,
        timestampType,
        key,
        value: encoded,
        headers,
        valueSchemaMetadata: metadata,
      }
    : { topic, partition, offset, timestamp, timestampType, key, value: encoded, headers };
}

const headerBytes = (v: string | Buffer): number[] => signedBytes(typeof v === 'string' ? Buffer.from(v) : v);

/** An MSK invocation event holding `records`, grouped under `<topic>-<partition>` as Lambda does. */
export function toMskEvent(
  records: readonly MskRecord[],
  eventSourceArn: string,
  bootstrapServers: string,
): MskEvent {
  const grouped: Record<string, MskRecord[]> = {};
  for (const r of records) {
    const key = `${r.topic}-${r.partition}`;
    const list = grouped[key];
    if (list) list.push(r);
    else grouped[key] = [r];
  }
  return { eventSource: 'aws:kafka', eventSourceArn, bootstrapServers, records: grouped };
}
