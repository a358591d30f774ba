/**
 * Kafka records as an MSK event-source mapping hands them to a function: the local runtime and the
 * tests build the invocation event from what a kafkajs consumer read.
 */
import type { KafkaMessage } from 'kafkajs';
import { type MskEvent, type MskRecord, signedBytes } from '../../core/msk-event';

/**
 * One consumed record in the MSK event's record shape (base64 key and value, signed header byte
 * arrays). `value`: the value to deliver when it is not the record's own (the schema-registry step
 * delivers the payload without its Glue header); encoded from the Buffer given, without a copy.
 */
export function toMskRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  logAppendTime = false,
  value: Buffer | null = message.value,
): MskRecord {
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
  // Two literals rather than a spread: one object shape each, no intermediate object per record.
  return message.key === null
    ? { topic, partition, offset, timestamp, timestampType, value: encoded, headers }
    : {
        topic,
        partition,
        offset,
        timestamp,
        timestampType,
        key: message.key.toString('base64'),
        value: encoded,
        headers,
      };
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
