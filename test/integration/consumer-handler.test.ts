/**
 * The consumer logic on the real broker: records written to user-events are read back, handed over
 * as an MSK event, and the derived events and dead letters land on the real topics.
 */
import { describe, expect } from 'vitest';
import { decode } from '../../core/glue-wire-format';
import { contractOfSchemaVersionId, eventRecord, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers } from '../../core/topology';
import { processBatch } from '../../lambdas/consumers/consumer';
import type { OutgoingMessage } from '../../lambdas/shared/kafka';
import { ensureTopics } from '../../lambdas/shared/topics';
import { toMskEvent, toMskRecord } from '../../local/esm/msk-records';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter } from '../../schemas/index';
import { invocation } from '../fixtures/msk';
import { kafkaTest } from '../support/fixtures';
import { durableProducer, readUntil, unique } from '../support/kafka-clients';

const it = kafkaTest('consumer-it');
const spec = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;

it.beforeAll(async ({ admin }) => {
  await ensureTopics(admin);
});

describe('user consumer on the real broker', () => {
  it('turns 100 good records and 1 poison into 100 derived events and 1 dead letter', async ({
    brokers,
    kafka,
    writer,
  }) => {
    const run = unique('batch');
    const templates = [
      eventExamples.user_registered[0],
      eventExamples.user_updated[0],
      eventExamples.user_deleted[0],
    ] as AnyEvent[];
    const events = Array.from({ length: 100 }, (_, i) => {
      const t = templates[i % 3] as AnyEvent;
      return {
        ...t,
        eventId: crypto.randomUUID(),
        correlationId: `${run}-${i}`,
        data: { ...t.data, userId: `u-${run}-${i % 10}` },
      } as AnyEvent;
    });
    const ids = schemaVersionIds(undefined);
    const poisonValue = Buffer.from([0x03, 0x00, 0x01]); // a Glue header cut short
    const producer = durableProducer(kafka);
    await producer.connect();
    const messages: OutgoingMessage[] = events.map((e) => eventRecord(e, ids).message);
    messages.splice(37, 0, {
      key: `user-${run}-poison`,
      value: poisonValue,
      headers: { 'correlation-id': `${run}-poison` },
    });
    await producer.send({
      topic: 'user-events',
      acks: -1,
      messages: messages.map((m) => ({ ...m, key: m.key })),
    });
    await producer.disconnect();

    // Read them back as the event-source mapping would, and hand them over in one invocation.
    const read = await readUntil(
      kafka,
      ['user-events'],
      (m) => m.message.headers?.['correlation-id']?.toString().startsWith(`${run}-`) ?? false,
      101,
    );
    expect(read).toHaveLength(101);
    const event = toMskEvent(
      read.map((m) => toMskRecord(m.topic, m.partition, m.message)),
      'arn:aws:kafka:local:000000000000:cluster/local/local',
      brokers,
    );
    const { response, counts } = await processBatch(event, invocation, {
      spec,
      writer,
      schemaVersionIds: ids,
      contractOf: contractOfSchemaVersionId(undefined),
    });
    expect(response.batchItemFailures).toEqual([]);
    const processed = [...counts.values()].reduce((n, c) => n + c.processed, 0);
    expect(processed).toBe(100);

    const derived = await readUntil(
      kafka,
      ['email-events', 'notification-events', 'cleanup-events'],
      (m) => {
        const value = m.message.value;
        return !!value && JSON.parse(decode(value).payload.toString()).correlationId.startsWith(`${run}-`);
      },
      100,
    );
    expect(derived).toHaveLength(100);
    const causes = derived
      .map((m) => JSON.parse(decode(m.message.value as Buffer).payload.toString()).causationId)
      .sort();
    expect(causes).toEqual(events.map((e) => e.eventId).sort());
    expect(derived.filter((m) => m.topic === 'email-events')).toHaveLength(34);

    const letters = await readUntil(
      kafka,
      ['user-events.dlq'],
      (m) => m.message.key?.toString() === `user-${run}-poison`,
      1,
    );
    expect(letters).toHaveLength(1);
    const letter = JSON.parse(letters[0]?.message.value?.toString() as string) as DeadLetter;
    expect(letter.requestContext.condition).toBe('RecordRejected');
    expect(letter.errorInfo?.errorType).toBe('DeserializationError');
    const original = Object.values(letter.payload.records)[0]?.[0];
    expect(Buffer.from(original?.value as string, 'base64')).toEqual(poisonValue);
    expect(letter.errorInfo?.handler).toBe('user-consumer');
  });
});
