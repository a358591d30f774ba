/**
 * PROTOTYPES (benchmarks only) of per-record hot spots the consumer-path profile shows, each a drop-in
 * replacement measured against the current function in bench/workers/cpu.ts:
 * - `toMskRecord` (local/esm/msk-records.ts) spreads each header's bytes (`[...buffer]`, the iterator
 *   protocol, one call per byte); `Array.from` on the buffer does the same copy natively.
 * - `uuidV5` (lambdas/shared/uuid.ts) parses the namespace from hex on every call and builds a Hash
 *   object; the namespace bytes can be computed once and `crypto.hash` hashes in one call.
 */
import { hash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { MskRecord } from '../../lambdas/shared/msk-event';
import { formatUuid } from '../../lambdas/shared/uuid';

export function toMskRecordFast(topic: string, partition: number, message: KafkaMessage): MskRecord {
  const headers: Record<string, number[]>[] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined) continue;
      headers.push({ [name]: Array.from(typeof v === 'string' ? Buffer.from(v) : v) });
    }
  }
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: 'CREATE_TIME',
    ...(message.key === null ? {} : { key: message.key.toString('base64') }),
    value: message.value === null ? null : message.value.toString('base64'),
    headers,
  };
}

const namespaces = new Map<string, Buffer>();

export function uuidV5Fast(namespace: string, name: string): string {
  let ns = namespaces.get(namespace);
  if (!ns) {
    ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
    namespaces.set(namespace, ns);
  }
  const h = hash('sha1', Buffer.concat([ns, Buffer.from(name, 'utf8')]), 'buffer');
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  return formatUuid(h);
}
