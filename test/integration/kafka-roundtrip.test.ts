/**
 * Glue-framed events through a real Apache Kafka broker: topics created from the topology, events
 * produced with kafkajs (acks from all in-sync replicas), consumed back, unframed and validated.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, inject } from 'vitest';
import { decode, encode } from '../../core/glue-wire-format';
import { topicOfEvent, topics } from '../../core/topology';
import { ensureTopics } from '../../lambdas/shared/topics';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent } from '../../schemas/index';
import { contractOfLocalSchemaVersionId, localSchemaVersionId } from '../../schemas/registry';
import { validateEvent } from '../../schemas/validator';
import { kafkaTest } from '../support/fixtures';
import { durableProducer, testKafka, unique } from '../support/kafka-clients';

const it = kafkaTest('roundtrip');

describe('the broker under test', () => {
  it('is a kafka.Kafka JVM started by the test setup (unless KAFKA_BROKERS was given)', () => {
    const pid = inject('kafkaPid');
    if (pid === 0) {
      expect(process.env.KAFKA_BROKERS).toBeTruthy();
      return;
    }
    const command = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    expect(command).toMatch(/java .*ParentWatch \d+ kafka\.Kafka /);
  });

  it('speaks Kafka 4 (KRaft) and refuses to auto-create topics', async ({ admin, brokers }) => {
    const { brokers: members, controller } = await admin.describeCluster();
    expect(members.length).toBeGreaterThanOrEqual(1);
    expect(controller).not.toBeNull();
    const impatient = testKafka(brokers, 'auto-create-probe', { retries: 1 });
    const producer = durableProducer(impatient);
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: unique('not-declared'), acks: -1, timeout: 3000, messages: [{ value: 'x' }] }),
      ).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
  });
});

describe('topics from the topology', () => {
  it('are all created, with their partitions and settings, and a second pass creates none', async ({
    admin,
  }) => {
    await ensureTopics(admin);
    const again = await ensureTopics(admin);
    expect(again.created).toEqual([]);
    expect(again.mismatched).toEqual([]);
    const listed = await admin.listTopics();
    for (const t of topics) expect(listed).toContain(t.name);

    const metadata = await admin.fetchTopicMetadata({ topics: ['user-events', 'user-events.dlq'] });
    expect(metadata.topics.find((t) => t.name === 'user-events')?.partitions).toHaveLength(6);
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: 2 /* TOPIC */, name: 'user-events.dlq', configNames: ['retention.ms', 'cleanup.policy'] },
      ],
    });
    const entries = Object.fromEntries(
      resources[0]?.configEntries.map((e) => [e.configName, e.configValue]) ?? [],
    );
    expect(entries).toEqual({ 'retention.ms': String(28 * 24 * 3600 * 1000), 'cleanup.policy': 'delete' });
  });
});

describe('Glue-framed events end to end', () => {
  it('arrive intact, in order per key, with their schema version id, and validate against their contract', async ({
    admin,
    kafka,
  }) => {
    await ensureTopics(admin);
    const run = unique('run');
    // Every user event example, several times over one key and over another, with this run's correlation id.
    const sent: AnyEvent[] = [];
    for (let i = 0; i < 3; i++) {
      for (const example of [
        ...eventExamples.user_registered,
        ...eventExamples.user_updated,
        ...eventExamples.user_login,
      ]) {
        sent.push({
          ...structuredClone(example),
          eventId: crypto.randomUUID(),
          correlationId: `${run}-${sent.length}`,
        } as AnyEvent);
      }
    }
    const topic = topicOfEvent('user_registered').name;
    const producer = durableProducer(kafka);
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: sent.map((event, i) => ({
          key: `user-${(event.data as { userId: string }).userId}`,
          value: encode(localSchemaVersionId(event.eventType), Buffer.from(JSON.stringify(event)), {
            compression: i % 2 === 0 ? 'none' : 'zlib',
          }),
          headers: {
            'content-type': 'application/json',
            'event-type': event.eventType,
            'correlation-id': event.correlationId,
          },
        })),
      });
    } finally {
      await producer.disconnect();
    }

    const received: { key: string; partition: number; event: AnyEvent; header: string }[] = [];
    const consumer = kafka.consumer({ groupId: unique('roundtrip') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            // The topic is shared with other tests, poison records included: only this run's count.
            if (!message.headers?.['correlation-id']?.toString().startsWith(`${run}-`)) return;
            const { schemaVersionId, payload } = decode(message.value ?? Buffer.alloc(0));
            const event = validateEvent(JSON.parse(payload.toString('utf8')));
            expect(contractOfLocalSchemaVersionId(schemaVersionId)).toBe(event.eventType);
            received.push({
              key: String(message.key),
              partition,
              event,
              header: String(message.headers?.['event-type']),
            });
            if (received.length === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    try {
      await done;
    } finally {
      await consumer.disconnect();
    }

    expect(received.map((r) => r.event).sort(byCorrelation)).toEqual([...sent].sort(byCorrelation));
    for (const r of received) expect(r.header).toBe(r.event.eventType);
    // One key, one partition, and the order it was written in.
    const byKey = Map.groupBy(received, (r) => r.key);
    for (const [key, records] of byKey) {
      expect(new Set(records.map((r) => r.partition)).size, key).toBe(1);
      const order = records.map((r) => Number(r.event.correlationId.split('-').at(-1)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });
});

const byCorrelation = (a: AnyEvent, b: AnyEvent) => a.correlationId.localeCompare(b.correlationId);
