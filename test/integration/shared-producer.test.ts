/**
 * SharedProducer, the functions' writer on Lambda (lambdas/shared/kafka.ts), against the real broker:
 * one produce request per send, even when sends overlap (merging them is the local runtime's
 * local/coalescing-writer.ts), a write to a partition nobody acknowledged fails, and idempotence holds
 * within one producer session.
 */
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka, type OutgoingMessage, SharedProducer } from '../../lambdas/shared/kafka';
import { readUntil, testKafka, unique } from '../support/kafka-clients';

const brokers = inject('kafkaBrokers');
let kafka: Kafka;
let admin: Admin;
const writers: SharedProducer[] = [];

function writer(): SharedProducer {
  const settings = {
    brokers: brokers.split(','),
    auth: 'plaintext' as const,
    region: undefined,
    clientId: 'sp-it',
  };
  const w = new SharedProducer(createKafka(settings, () => {}));
  writers.push(w);
  return w;
}

async function topic(partitions: number): Promise<string> {
  const name = unique('producer');
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
  });
  return name;
}

const message = (caller: number, i: number, partition?: number): OutgoingMessage => ({
  key: `k-${caller}-${i}`,
  value: Buffer.from(`caller ${caller} record ${i}`),
  ...(partition === undefined ? {} : { partition }),
});

/** The record batch a read record came in: its first offset (https://kafka.apache.org/documentation/#recordbatch). */
const batchOf = (m: { message: unknown }) =>
  (m.message as { batchContext?: { firstOffset?: string } }).batchContext?.firstOffset;

beforeAll(async () => {
  kafka = testKafka(brokers, 'sp-it');
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(writers.map((w) => w.disconnect()));
  await admin.disconnect();
});

describe('SharedProducer', () => {
  it('writes each send in a produce request of its own, even when sends overlap', async () => {
    const name = await topic(1);
    const w = writer();
    const callers = 10;
    const results = await Promise.all(
      Array.from({ length: callers }, (_, c) =>
        w.send([{ topic: name, messages: [message(c, 0, 0), message(c, 1, 0)] }]),
      ),
    );
    const read = await readUntil(kafka, [name], () => true, callers * 2);
    expect(read).toHaveLength(callers * 2);
    // kafkajs writes one send's records of a partition as one record batch: one batch per caller, each
    // holding that caller's two records, at the base offset its send was answered with.
    const batches = new Map<string | undefined, string[]>();
    for (const r of read)
      batches.set(batchOf(r), [...(batches.get(batchOf(r)) ?? []), r.message.value?.toString() ?? '']);
    expect(batches.size).toBe(callers);
    results.forEach((metadata, c) => {
      expect(metadata).toHaveLength(1);
      expect(batches.get(metadata[0]?.baseOffset)).toEqual([`caller ${c} record 0`, `caller ${c} record 1`]);
    });
  });

  it("hands kafkajs the callers' messages as they are and leaves them unchanged", async () => {
    // SharedProducer passes the messages to kafkajs without copying them: kafkajs must only read
    // them, on a first write to a topic (which fetches its metadata) and on the same messages again.
    const name = await topic(2);
    const w = writer();
    const deepFreeze = (m: OutgoingMessage) =>
      Object.freeze({ ...m, headers: Object.freeze({ ...m.headers }) }) as OutgoingMessage;
    const messages = [0, 1, 2].map((i) =>
      deepFreeze({ ...message(0, i, i % 2), headers: { 'event-type': 'test', n: Buffer.from([i]) } }),
    );
    // Keys, partitions, and the bytes of values and headers (Buffer's toJSON lists them).
    const before = JSON.stringify(messages);
    await w.send([{ topic: name, messages }]);
    await w.send([{ topic: name, messages }]);
    expect(JSON.stringify(messages)).toBe(before);
    const read = await readUntil(kafka, [name], () => true, 6);
    expect(read.map((r) => r.message.value?.toString()).sort()).toEqual(
      [0, 0, 1, 1, 2, 2].map((i) => `caller 0 record ${i}`),
    );
  });

  it('fails a send to a partition that was not acknowledged', async () => {
    const name = await topic(2);
    const w = writer();
    // Partition 5 does not exist: kafkajs finds no leader for it and leaves it out of its answer.
    await expect(
      w.send([{ topic: name, messages: [message(0, 0, 0), message(0, 1, 5)] }]),
    ).rejects.toMatchObject({
      name: 'KafkaUnavailableError',
      message: expect.stringContaining(`${name}, partition 5`),
    });
    // The producer still writes afterwards.
    const [written] = await w.send([{ topic: name, messages: [message(1, 0, 1)] }]);
    expect(written).toMatchObject({ topicName: name, partition: 1 });
  });
});

describe('SharedProducer idempotence (README.md, "Producer API")', () => {
  // The record batch header carries the producer id; an idempotent producer gets one from the broker
  // (InitProducerId) per session, a non-idempotent one writes -1
  // (https://kafka.apache.org/documentation/#recordbatch). The broker drops a retried batch by
  // producer id and sequence number, so the dedup holds within one session only.
  const producerIdOf = (m: { message: unknown }) =>
    (m.message as { batchContext?: { producerId?: string } }).batchContext?.producerId;

  it('writes under one producer id per session, and under a new one after the producer is reset', async () => {
    const name = await topic(1);
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
