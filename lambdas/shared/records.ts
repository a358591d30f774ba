/**
 * Turning events into Kafka records: topic from the topology, key from the topic's key rule, value in
 * the Glue Schema Registry wire format, and the headers every record carries. The producer endpoint
 * and the consumers (for derived events) both write through here.
 */

import { Partitioners, type PartitionMetadata } from 'kafkajs';
import type { TopicSpec } from '../../lib/topology';
import { topicOfEvent } from '../../lib/topology';
import { contractVersions } from '../../schemas/catalogue';
import type { ContractName, EventType } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import { encode } from './glue-wire-format';
import type { OutgoingMessage } from './kafka';

/** Header names on every event record. */
export const HEADERS = {
  contentType: 'content-type',
  eventType: 'event-type',
  correlationId: 'correlation-id',
  schemaVersionId: 'schema-version-id',
} as const;

/** The content type of a Glue-framed JSON record. */
export const FRAMED_JSON = 'application/vnd.aws.glue.schema-registry+json';

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

import { contractOfLocalSchemaVersionId as contractOfLocal } from '../../schemas/registry';

interface EventLike {
  readonly eventType: EventType;
  readonly correlationId: string;
  readonly data: unknown;
}

/** The record key of `event` on `topic`: `<prefix><entity id>`. */
export function recordKey(topic: TopicSpec, event: EventLike): string {
  if (!topic.key) throw new Error(`topic ${topic.name} has no key rule`);
  const id = (event.data as Record<string, unknown>)[topic.key.field];
  if (typeof id !== 'string')
    throw new Error(`${event.eventType} has no ${topic.key.field} to key ${topic.name} by`);
  return `${topic.key.prefix}${id}`;
}

const partitioner = Partitioners.DefaultPartitioner();
/** Partition lists per partition count, built once. */
const partitionLists = new Map<number, PartitionMetadata[]>();

/**
 * Partition of `key` on `topic`: the Java client's murmur2 partitioner (what kafkajs' default
 * partitioner does) over the topology's partition count, which is what the stacks create. Naming the
 * partition lets the caller know where each record went and lets concurrent writes share a produce
 * request (see SharedProducer).
 */
export function partitionOf(topic: TopicSpec, key: string): number {
  let partitionMetadata = partitionLists.get(topic.partitions);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: topic.partitions }, (_, i) => ({
      partitionId: i,
      leader: 0,
      replicas: [],
      isr: [],
      partitionErrorCode: 0,
    }));
    partitionLists.set(topic.partitions, partitionMetadata);
  }
  return partitioner({ topic: topic.name, partitionMetadata, message: { key, value: null } });
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
      value: encode(schemaVersionId, Buffer.from(JSON.stringify(event), 'utf8')),
      headers: {
        [HEADERS.contentType]: FRAMED_JSON,
        [HEADERS.eventType]: event.eventType,
        [HEADERS.correlationId]: event.correlationId,
        [HEADERS.schemaVersionId]: schemaVersionId,
      },
    },
  };
}

/** The `schemaVersion` a producer writes for a contract. */
export const currentVersion = (name: ContractName): number => contractVersions[name];
