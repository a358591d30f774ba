/**
 * Kafka records as an MSK event-source mapping hands them to a function: the local runtime and the
 * tests build the invocation event from what a kafkajs consumer read.
 */
import type { KafkaMessage } from 'kafkajs';
import { type MskEvent, type MskRecord, signedBytes } from '../../core/msk-event';

/** One consumed record in the MSK event's record shape (base64 key and value, signed header byte arrays). */
export function toMskRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  logAppendTime = false,
): MskRecord {
  const headers: Record<string, number[]>[] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined) continue;
      headers.push({ [name]: signedBytes(typeof v === 'string' ? Buffer.from(v) : v) });
    }
  }
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: logAppendTime ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
    ...(message.key === null ? {} : { key: message.key.toString('base64') }),
    value: message.value === null ? null : message.value.toString('base64'),
    headers,
  };
}

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
