/**
 * SharedProducer's coalescing, against the real broker: batches that arrive while a send is in flight
 * share the next produce request, yet each caller learns exactly where its own records went, order
 * per partition is the callers' order, and one caller's refused batch does not fail the others.
 */
import type { Admin } from 'kafkajs';
import { describe, expect, inject } from 'vitest';
import { createKafka, type OutgoingMessage, SharedProducer } from '../../lambdas/shared/kafka';
import { freePort } from '../../local/kafka/broker';
import { kafkaTest } from '../support/fixtures';
import { readUntil, unique } from '../support/kafka-clients';

const it = kafkaTest('sp-it');
const brokers = inject('kafkaBrokers');
// The writers under test, each with its own options (the `writer` fixture is the functions' default).
const writers: SharedProducer[] = [];

function writer(
  options: ConstructorParameters<typeof SharedProducer>[1] = {},
  to: string = brokers,
): SharedProducer {
  const settings = {
    brokers: to.split(','),
    auth: 'plaintext' as const,
    region: undefined,
    clientId: 'sp-it',
  };
  const w = new SharedProducer(
    createKafka(settings, () => {}),
    options,
  );
  writers.push(w);
  return w;
}

async function topic(admin: Admin, partitions: number, config: Record<string, string> = {}): Promise<string> {
  const name = unique('coalesce');
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
      },
    ],
  });
  return name;
}

const message = (caller: number, i: number, partition?: number): OutgoingMessage => ({
  key: `k-${caller}-${i}`,
  value: Buffer.from(`caller ${caller} record ${i}`),
  headers: { caller: String(caller) },
  ...(partition === undefined ? {} : { partition }),
});

it.afterAll(async () => {
  await Promise.all(writers.map((w) => w.disconnect()));
});

describe('SharedProducer coalescing', () => {
  it('merges concurrent batches into fewer sends and gives each caller the offsets of its own records', async ({
    admin,
    kafka,
  }) => {
    const name = await topic(admin, 3);
    const w = writer();
    const callers = 24;
    // Each caller writes 1 to 5 records spread over the partitions, all sent at once.
    const batches = Array.from({ length: callers }, (_, c) =>
      Array.from({ length: 1 + (c % 5) }, (_, i) => message(c, i, (c + i) % 3)),
    );
    const results = await Promise.all(batches.map((messages) => w.send([{ topic: name, messages }])));
    expect(w.stats.batches).toBe(callers);
    expect(w.stats.sends).toBeLessThan(callers);

    const total = batches.reduce((n, b) => n + b.length, 0);
    const read = await readUntil(kafka, [name], () => true, total);
    expect(read).toHaveLength(total);
    const at = new Map(read.map((r) => [`${r.partition}/${r.message.offset}`, r.message.value?.toString()]));

    batches.forEach((messages, c) => {
      const metadata = results[c] ?? [];
      // One entry per partition the caller wrote, and its records from that base offset on, in order.
      const partitions = [...new Set(messages.map((m) => m.partition))];
      expect(metadata.map((m) => m.partition).sort()).toEqual([...partitions].sort());
      for (const p of partitions) {
        const base = BigInt(metadata.find((m) => m.partition === p)?.baseOffset ?? '-1');
        const mine = messages.filter((m) => m.partition === p);
        // The caller's records on a partition are contiguous: nobody else's were merged in between.
        mine.forEach((m, k) => {
          expect(at.get(`${p}/${base + BigInt(k)}`)).toBe(m.value.toString());
        });
      }
    });
  });

  it('keeps per-partition order in the order send was called', async ({ admin, kafka }) => {
    const name = await topic(admin, 1);
    const w = writer();
    await Promise.all(
      Array.from({ length: 30 }, (_, c) => w.send([{ topic: name, messages: [message(c, 0, 0)] }])),
    );
    const read = await readUntil(kafka, [name], () => true, 30);
    expect(read.map((r) => r.message.value?.toString())).toEqual(
      Array.from({ length: 30 }, (_, c) => `caller ${c} record 0`),
    );
  });

  it('sends a batch left to the partitioner on its own, with kafkajs metadata', async ({ admin, kafka }) => {
    const name = await topic(admin, 2);
    const w = writer();
    const results = await Promise.all([
      w.send([{ topic: name, messages: [message(0, 0, 0)] }]),
      w.send([{ topic: name, messages: [message(1, 0, 0)] }]),
      w.send([{ topic: name, messages: [message(2, 0), message(2, 1)] }]),
      w.send([{ topic: name, messages: [message(3, 0, 1)] }]),
    ]);
    // The first goes out alone (nothing was in flight), the unpartitioned one alone, and the two on
    // either side of it cannot merge across it.
    expect(w.stats).toEqual({ sends: 4, batches: 4 });
    expect(results[2]?.length).toBeGreaterThan(0);
    expect((await readUntil(kafka, [name], () => true, 5)).length).toBe(5);
  });

  it('does not merge past maxMergedBytes', async ({ admin }) => {
    const name = await topic(admin, 1);
    const w = writer({ maxMergedBytes: 1 });
    await Promise.all(
      Array.from({ length: 6 }, (_, c) => w.send([{ topic: name, messages: [message(c, 0, 0)] }])),
    );
    expect(w.stats).toEqual({ sends: 6, batches: 6 });
  });

  it('a batch the broker refuses fails its caller only; the others merged with it are written', async ({
    admin,
    kafka,
  }) => {
    const name = await topic(admin, 1, { 'max.message.bytes': '2048' });
    const w = writer({ sendTimeoutMs: 5000 });
    const big: OutgoingMessage = { key: 'big', value: Buffer.alloc(8192, 1), partition: 0 };
    const outcomes = await Promise.allSettled([
      w.send([{ topic: name, messages: [message(0, 0, 0)] }]),
      w.send([{ topic: name, messages: [message(1, 0, 0)] }]),
      w.send([{ topic: name, messages: [big] }]),
      w.send([{ topic: name, messages: [message(3, 0, 0)] }]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ name: 'KafkaUnavailableError' });
    const read = await readUntil(kafka, [name], () => true, 3, 5000);
    expect(read.map((r) => r.message.value?.toString()).sort()).toEqual(
      ['caller 0 record 0', 'caller 1 record 0', 'caller 3 record 0'].sort(),
    );
  });

  it('fails a caller whose partition is not acknowledged, and only that caller', async ({ admin }) => {
    const name = await topic(admin, 2);
    const w = writer();
    const outcomes = await Promise.allSettled([
      w.send([{ topic: name, messages: [message(0, 0, 0)] }]),
      w.send([{ topic: name, messages: [message(1, 0, 1)] }]),
      // Partition 5 does not exist: kafkajs finds no leader for it and leaves it out of its answer.
      w.send([{ topic: name, messages: [message(2, 0, 5)] }]),
      w.send([{ topic: name, messages: [message(3, 0, 0)] }]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({
      name: 'KafkaUnavailableError',
      message: expect.stringContaining(`${name}, partition 5`),
    });
  });

  it('fails a merged group at once when Kafka cannot be reached, without sending each batch again', async () => {
    // Nothing listens there; the producer keeps trying to connect until the send deadline.
    const unreachable = `127.0.0.1:${await freePort()}`;
    const w = writer({ sendTimeoutMs: 2000 }, unreachable);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 4 }, (_, c) => w.send([{ topic: 'nowhere', messages: [message(c, 0, 0)] }])),
    );
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    for (const o of outcomes)
      expect((o as PromiseRejectedResult).reason).toMatchObject({ name: 'KafkaUnavailableError' });
    // The first alone, the three queued behind it together: two attempts, not five.
    expect(w.stats.sends).toBe(2);
  }, 30_000);
});

describe('SharedProducer idempotence (docs/architecture.md, "Producer API")', () => {
  // The record batch header carries the producer id; an idempotent producer gets one from the broker
  // (InitProducerId) per session, a non-idempotent one writes -1
  // (https://kafka.apache.org/documentation/#recordbatch). The broker drops a retried batch by
  // producer id and sequence number, so the dedup holds within one session only.
  const producerIdOf = (m: { message: unknown }) =>
    (m.message as { batchContext?: { producerId?: string } }).batchContext?.producerId;

  it('writes under one producer id per session, and under a new one after the producer is reset', async ({
    admin,
    kafka,
  }) => {
    const name = await topic(admin, 1);
    const w = writer();
    await w.send([{ topic: name, messages: [message(0, 0, 0)] }]);
    await w.send([{ topic: name, messages: [message(0, 1, 0)] }]);
    await w.disconnect(); // what a failed or timed-out send does before the next one reconnects
    await w.send([{ topic: name, messages: [message(0, 2, 0)] }]);

    const ids = (await readUntil(kafka, [name], () => true, 3)).map(producerIdOf);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(Number(id)).toBeGreaterThanOrEqual(0);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });
});
