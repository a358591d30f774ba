/**
 * Poison records written straight into each consumed topic: each ends in `<topic>.dlq` with its reason
 * and its original bytes, its partition keeps flowing, and the records after it are processed.
 */
import { describe, expect } from 'vitest';
import { decode, encode } from '../../core/glue-wire-format';
import { eventRecord, schemaVersionIds } from '../../core/records';
import { consumers, dlqOf, topicNamed } from '../../core/topology';
import { LocalRuntime } from '../../local/runtime';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter, EventType } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import { kafkaTest } from '../support/fixtures';
import { durableProducer, readUntil, unique } from '../support/kafka-clients';
import { freePort } from '../support/runtime-process';

const it = kafkaTest('poison');
let runtime: LocalRuntime;

it.beforeAll(async ({ brokers }) => {
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort() });
}, 120_000);
it.afterAll(async () => {
  await runtime?.stop();
});

/** The first event type of a consumer's flows, and an example of it. */
function handledExample(topic: string): AnyEvent {
  const consumer = consumers.find((c) => c.sourceTopic === topic);
  const type = Object.keys(consumer?.flows ?? {})[0] as EventType;
  return eventExamples[type][0] as AnyEvent;
}

describe.each(consumers.map((c) => c.sourceTopic))('poison records on %s', (topic) => {
  it('each goes to the dead-letter topic with its reason and bytes, and the partition keeps flowing', async ({
    kafka,
  }) => {
    const run = unique('poison');
    const key = `${topicNamed(topic).key?.prefix}${run}`;
    const example = handledExample(topic);
    const id = localSchemaVersionId(example.eventType);
    const violating = { ...example, data: { ...(example.data as object), unexpected: true } };
    const poisons: {
      name: string;
      value: Buffer | null;
      condition: DeadLetter['requestContext']['condition'];
    }[] = [
      {
        name: 'random bytes',
        value: Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256)),
        condition: 'DESERIALIZATION_ERROR',
      },
      {
        name: 'truncated Glue header',
        value: encode(id, Buffer.from('{}')).subarray(0, 9),
        condition: 'DESERIALIZATION_ERROR',
      },
      {
        name: 'unknown schema version',
        value: encode('2b9f8c3e-0000-4000-8000-000000000bad', Buffer.from(JSON.stringify(example))),
        condition: 'SCHEMA_NOT_FOUND',
      },
      {
        name: 'valid JSON violating the schema',
        value: encode(id, Buffer.from(JSON.stringify(violating))),
        condition: 'DESERIALIZATION_ERROR',
      },
      {
        name: '1 MB record',
        value: encode(id, Buffer.from(JSON.stringify({ ...example, pad: 'p'.repeat(1_000_000) }))),
        condition: 'DESERIALIZATION_ERROR',
      },
      { name: 'tombstone', value: null, condition: 'DESERIALIZATION_ERROR' },
    ];
    const ids = schemaVersionIds(undefined);
    const good = (i: number) => {
      const event = {
        ...example,
        eventId: crypto.randomUUID(),
        correlationId: `${run}-good-${i}`,
      } as AnyEvent;
      return { ...eventRecord(event, ids).message, key };
    };
    const producer = durableProducer(kafka);
    await producer.connect();
    // good, poison, good, poison, ... all on one key: one partition, in this order.
    const messages = poisons.flatMap((p, i) => [
      good(i),
      { key, value: p.value, headers: { 'poison-name': p.name } },
    ]);
    messages.push(good(poisons.length));
    for (const m of messages) await producer.send({ topic, acks: -1, messages: [m] });
    await producer.disconnect();

    // Every mapping that reads the topic writes its own dead letter for a record it cannot read: the
    // topic's consumer and the analytics function (one mapping per source topic). Each names its
    // function in requestContext.functionArn.
    const consumer = consumers.find((c) => c.sourceTopic === topic);
    const letterOf = (name: string) => (m: { message: { key: Buffer | null; value: Buffer | null } }) =>
      m.message.key?.toString() === key &&
      (JSON.parse(String(m.message.value)) as DeadLetter).requestContext.functionArn.includes(
        `:function:${name}:`,
      );
    const letters = await readUntil(
      kafka,
      [dlqOf(topic)],
      letterOf(consumer?.name ?? ''),
      poisons.length,
      30_000,
    );
    const analyticsLetters = await readUntil(
      kafka,
      [dlqOf(topic)],
      letterOf('analytics'),
      poisons.length,
      30_000,
    );
    expect(analyticsLetters).toHaveLength(poisons.length);
    const byName = new Map(
      letters.map((m) => {
        const letter = JSON.parse(String(m.message.value)) as DeadLetter;
        const original = Object.values(letter.payload.records)[0]?.[0];
        const name = Buffer.from(
          original?.headers.find((h) => 'poison-name' in h)?.['poison-name'] ?? [],
        ).toString();
        return [name, { letter, original }];
      }),
    );
    for (const p of poisons) {
      const entry = byName.get(p.name);
      expect(entry, p.name).toBeDefined();
      expect(entry?.letter.requestContext.condition, p.name).toBe(p.condition);
      expect(entry?.original?.value ?? null, p.name).toBe(
        p.value === null ? null : p.value.toString('base64'),
      );
    }

    const derivedTopics = [...new Set((consumer?.flows[example.eventType] ?? []).map((d) => d.topic))];
    const expectedPerGood = (consumer?.flows[example.eventType] ?? []).length;
    const derived = await readUntil(
      kafka,
      derivedTopics,
      (m) => {
        if (!m.message.value) return false;
        try {
          return (JSON.parse(decode(m.message.value).payload.toString()).correlationId as string).startsWith(
            `${run}-good-`,
          );
        } catch {
          return false;
        }
      },
      (poisons.length + 1) * expectedPerGood,
      30_000,
    );
    expect(derived).toHaveLength((poisons.length + 1) * expectedPerGood);
  });
});
