/**
 * Turning events into Kafka records: topic from the topology, key from the topic's key rule, value in
 * the Glue Schema Registry wire format, and the headers every record carries. The producer endpoint
 * and the consumers (for derived events) both write through here.
 */

import type { ContractName, EventType } from '../schemas/index';
import { localSchemaVersionId } from '../schemas/registry';
import { encodeJson } from './glue-wire-format';
import type { OutgoingMessage } from './kafka-records';
import type { TopicSpec } from './topology';
import { topicOfEvent } from './topology';

/** Header names on every event record. */
const HEADERS = {
  contentType: 'content-type',
  eventType: 'event-type',
  correlationId: 'correlation-id',
  schemaVersionId: 'schema-version-id',
} as const;

/** The content type of a Glue-framed JSON record. */
const FRAMED_JSON = 'application/vnd.aws.glue.schema-registry+json';

/** Resolves the schema version id a contract is written with. */
export type SchemaVersionIds = (name: ContractName) => string;

/**
 * Schema version ids from the deployment (`SCHEMA_VERSION_IDS`, Glue's ids), or, when it gives none,
 * the local ids derived from the contract definitions (local runtime and tests).
 */
export function schemaVersionIds(
  fromEnvironment: Partial<Record<ContractName, string>> | undefined,
): SchemaVersionIds {
  if (!fromEnvironment) return localSchemaVersionId;
  // A deployment that names its ids must name every id the function writes: a local id would not
  // be in its Glue registry, and the consumers' mappings would dead-letter the record.
  return (name) => {
    const id = fromEnvironment[name];
    if (!id) throw new Error(`SCHEMA_VERSION_IDS has no schema version id for "${name}"`);
    return id.toLowerCase();
  };
}

/** The reverse: which contract a schema version id belongs to. */
export function contractOfSchemaVersionId(
  fromEnvironment: Partial<Record<ContractName, string>> | undefined,
): (id: string) => ContractName | undefined {
  const known = new Map<string, ContractName>();
  for (const [name, id] of Object.entries(fromEnvironment ?? {}))
    known.set(id.toLowerCase(), name as ContractName);
  return (id) => known.get(id.toLowerCase()) ?? contractOfLocal(id);
}

import { contractOfLocalSchemaVersionId as contractOfLocal } from '../schemas/registry';

interface EventLike {
  readonly eventType: EventType;
  readonly correlationId: string;
  readonly data: unknown;
}

/** The record key of `event` on `topic`: `<prefix><entity id>`. */
function recordKey(topic: TopicSpec, event: EventLike): string {
  if (!topic.key) throw new Error(`topic ${topic.name} has no key rule`);
  const id = (event.data as Record<string, unknown>)[topic.key.field];
  if (typeof id !== 'string')
    throw new Error(`${event.eventType} has no ${topic.key.field} to key ${topic.name} by`);
  return `${topic.key.prefix}${id}`;
}

/**
 * Kafka's murmur2 of `key`'s UTF-8 bytes, as the Java client's `Utils.murmur2`
 * (https://github.com/apache/kafka/blob/trunk/clients/src/main/java/org/apache/kafka/common/utils/Utils.java)
 * and kafkajs' default partitioner compute it. kafkajs' own implementation does 64-bit `Long`
 * arithmetic in objects and was 6 % of the producer's CPU in the benchmark; this one is 32-bit
 * integer arithmetic (`Math.imul`), checked against kafkajs' partitioner in test/unit/records.test.ts.
 */
export function murmur2(key: string): number {
  // An ASCII key's UTF-8 bytes are its char codes: hash them without encoding the key into a buffer
  // (the record keys are ASCII: a prefix and an entity id); any other key through its UTF-8 bytes.
  const length = key.length;
  for (let i = 0; i < length; i++)
    if (key.charCodeAt(i) > 0x7f) return murmur2Bytes(Buffer.from(key, 'utf8'));
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k =
      key.charCodeAt(i) |
      (key.charCodeAt(i + 1) << 8) |
      (key.charCodeAt(i + 2) << 16) |
      (key.charCodeAt(i + 3) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= key.charCodeAt(length4 + 2) << 16;
    if (tail >= 2) h ^= key.charCodeAt(length4 + 1) << 8;
    h ^= key.charCodeAt(length4);
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** {@link murmur2} of raw bytes. */
function murmur2Bytes(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last one to three bytes.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= (data[length4 + 2] as number) << 16;
    if (tail >= 2) h ^= (data[length4 + 1] as number) << 8;
    h ^= data[length4] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Partition of `key` on `topic`: what the Java client's and kafkajs' default partitioners choose for
 * a keyed record (`toPositive(murmur2(key)) % partitions`), over the topology's partition count,
 * which is what the stacks create. Naming the partition lets the caller know where each record went
 * and lets concurrent writes share a produce request (see local/coalescing-writer.ts).
 */
export function partitionOf(topic: TopicSpec, key: string): number {
  return (murmur2(key) & 0x7fffffff) % topic.partitions;
}

/** A validated event as the record written to its topic, on the partition its key hashes to. */
export function eventRecord(
  event: EventLike,
  ids: SchemaVersionIds,
): { topic: TopicSpec; message: OutgoingMessage & { key: string; partition: number } } {
  const topic = topicOfEvent(event.eventType);
  const schemaVersionId = ids(event.eventType);
  const key = recordKey(topic, event);
  return {
    topic,
    message: {
      key,
      partition: partitionOf(topic, key),
      // The event serialized once, into the framed buffer directly.
      value: encodeJson(schemaVersionId, JSON.stringify(event)),
      // Literal names (the ones in HEADERS): an object literal with computed keys is built key by key.
      headers: {
        'content-type': FRAMED_JSON,
        'event-type': event.eventType,
        'correlation-id': event.correlationId,
        'schema-version-id': schemaVersionId,
      } satisfies Record<(typeof HEADERS)[keyof typeof HEADERS], string>,
    },
  };
}
