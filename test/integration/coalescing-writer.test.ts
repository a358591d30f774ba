/**
 * The local runtime's CoalescingWriter (local/coalescing-writer.ts), against the real broker: batches
 * that arrive while a send is in flight share the next produce request, yet each caller learns exactly
 * where its own records went, order per partition is the callers' order, and one caller's refused
 * batch does not fail the others.
 */
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka, type OutgoingMessage, SharedProducer } from '../../lambdas/shared/kafka';
import { type CoalescingOptions, CoalescingWriter } from '../../local/coalescing-writer';
import { freePort } from '../../local/kafka/broker';
import { readUntil, testKafka, unique } from '../support/kafka-clients';

const brokers = inject('kafkaBrokers');
let kafka: Kafka;
let admin: Admin;
const writers: CoalescingWriter[] = [];

function writer(
  options: CoalescingOptions & { sendTimeoutMs?: number } = {},
  to: string = brokers,
): CoalescingWriter {
  const settings = {
    brokers: to.split(','),
    auth: 'plaintext' as const,
    region: undefined,
    clientId: 'sp-it',
  };
  const w = new CoalescingWriter(
    new SharedProducer(
      createKafka(settings, () => {}),
      options,
    ),
    options,
  );
  writers.push(w);
  return w;
}

async function topic(partitions: number, config: Record<string, string> = {}): Promise<string> {
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

beforeAll(async () => {
  kafka = testKafka(brokers, 'sp-it');
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(writers.map((w) => w.disconnect()));
  await admin.disconnect();
});

describe('CoalescingWriter', () => {
  it('merges concurrent batches into fewer sends and gives each caller the offsets of its own records', async () => {
    const name = await topic(3);
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

  it('keeps per-partition order in the order send was called', async () => {
    const name = await topic(1);
    const w = writer();
    await Promise.all(
      Array.from({ length: 30 }, (_, c) => w.send([{ topic: name, messages: [message(c, 0, 0)] }])),
    );
    const read = await readUntil(kafka, [name], () => true, 30);
    expect(read.map((r) => r.message.value?.toString())).toEqual(
      Array.from({ length: 30 }, (_, c) => `caller ${c} record 0`),
    );
  });

  it('sends a batch left to the partitioner on its own, with kafkajs metadata', async () => {
    const name = await topic(2);
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

  it('does not merge past maxMergedBytes', async () => {
    const name = await topic(1);
    const w = writer({ maxMergedBytes: 1 });
    await Promise.all(
      Array.from({ length: 6 }, (_, c) => w.send([{ topic: name, messages: [message(c, 0, 0)] }])),
    );
    expect(w.stats).toEqual({ sends: 6, batches: 6 });
  });

  it('a batch the broker refuses fails its caller only; the others merged with it are written', async () => {
    const name = await topic(1, { 'max.message.bytes': '2048' });
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

  it('fails a caller whose partition is not acknowledged, and only that caller', async () => {
    const name = await topic(2);
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
