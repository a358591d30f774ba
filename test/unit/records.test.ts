/**
 * The producer and the consumers name each record's partition themselves (so that concurrent writes
 * can share a produce request and callers know where records went): it must be exactly the partition
 * kafkajs' default partitioner (Java's murmur2 partitioner) would have chosen for the key.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { eventRecord, murmur2, partitionOf, schemaVersionIds } from '../../core/records';
import { topicOfEvent, topics } from '../../core/topology';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, EventType } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';

const kafkajs = Partitioners.DefaultPartitioner();

function kafkajsPartition(topic: string, partitions: number, key: string): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  return kafkajs({ topic, partitionMetadata, message: { key, value: null } });
}

describe('partitionOf', () => {
  // Keys of every length modulo 4 (murmur2 treats the last one to three bytes apart), multi-byte
  // UTF-8, the empty key and the topology's own key shapes.
  const keys = [
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    'user-u-1001',
    'order-o-42',
    'payment-p-7',
    'é',
    'ключ-🔑',
    'x'.repeat(1000),
    ...Array.from({ length: 2000 }, (_, i) => `user-${randomUUID().slice(0, 1 + (i % 36))}`),
  ];

  it('agrees with kafkajs default partitioner for every key, on 1 to 12 partitions', () => {
    for (const partitions of [1, 2, 3, 6, 7, 12]) {
      const topic = { ...(topics[0] as (typeof topics)[number]), partitions };
      for (const key of keys)
        expect(partitionOf(topic, key)).toBe(kafkajsPartition(topic.name, partitions, key));
    }
  });

  it("matches the Java client's murmur2 on known values", () => {
    // Utils.murmur2 of these strings' bytes in Apache Kafka's UtilsTest (testMurmur2).
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2('abc')).toBe(479470107);
  });
});

describe('eventRecord', () => {
  const ids = schemaVersionIds(undefined);

  it('writes each event as the Glue header (0x03, 0x00, the schema version id) and its JSON, with its key, partition and headers', () => {
    const events = (Object.keys(eventExamples) as EventType[]).flatMap((type) =>
      (eventExamples[type] as AnyEvent[]).map((e, i) => ({
        ...e,
        // Multi-byte text, where the framing must write UTF-8 bytes, not UTF-16 code units.
        correlationId: i === 0 ? `ünïcödé-${type}` : e.correlationId,
      })),
    );
    expect(events.length).toBeGreaterThan(10);
    for (const event of events) {
      const id = localSchemaVersionId(event.eventType);
      const { topic, message } = eventRecord(event, ids);
      expect(topic).toBe(topicOfEvent(event.eventType));
      const expected = Buffer.concat([
        Buffer.from([0x03, 0x00]),
        Buffer.from(id.replaceAll('-', ''), 'hex'),
        Buffer.from(JSON.stringify(event), 'utf8'),
      ]);
      expect(message.value.equals(expected)).toBe(true);
      expect(message.partition).toBe(partitionOf(topic, message.key));
      expect(message.headers).toEqual({
        'content-type': 'application/vnd.aws.glue.schema-registry+json',
        'event-type': event.eventType,
        'correlation-id': event.correlationId,
        'schema-version-id': id,
      });
    }
  });
});
