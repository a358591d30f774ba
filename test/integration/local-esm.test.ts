/**
 * The local event-source mapping's semantics on the real broker, each with its own topic and group:
 * batch size, filters, the schema-registry step, partial batch responses, bisection, timeouts,
 * retries, record age, and the on-failure destination's dead letters.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mappingAsDeployed } from '../../core/mapping';
import type { KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { eventRecord, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers, type TopicSpec, topicNamed } from '../../core/topology';
import type { SharedProducer } from '../../lambdas/shared/kafka';
import { ensureTopics } from '../../lambdas/shared/topics';
import { consumerMapping } from '../../local/consumer-mapping';
import type { LocalEventSourceMapping } from '../../local/esm/index';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter } from '../../schemas/index';
import { contractOfLocalSchemaVersionId } from '../../schemas/registry';
import { durableProducer, readUntil, testKafka, testWriter, unique } from '../support/kafka-clients';

const brokers = inject('kafkaBrokers');
let kafka: Kafka;
let admin: Admin;
let writer: SharedProducer;
const running: LocalEventSourceMapping[] = [];

beforeAll(async () => {
  kafka = testKafka(brokers, 'esm-it');
  admin = kafka.admin();
  await admin.connect();
  writer = testWriter(brokers, 'esm-it');
});
afterAll(async () => {
  await Promise.all(running.map((m) => m.stop()));
  await writer.disconnect();
  await admin.disconnect();
});

/** A copy of the user consumer on its own topic, DLQ and group, with `mapping` overrides. */
async function isolated(overrides: Partial<ConsumerSpec['mapping']> = {}, extra: Partial<ConsumerSpec> = {}) {
  const base = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;
  const name = unique('esm');
  const source: TopicSpec = { ...topicNamed('user-events'), name, partitions: 2 };
  const dlq: TopicSpec = { ...topicNamed('user-events.dlq'), name: `${name}.dlq`, partitions: 1 };
  await ensureTopics(admin, [source, dlq]);
  const spec: ConsumerSpec = {
    ...base,
    name,
    sourceTopic: name,
    ...extra,
    mapping: {
      ...base.mapping,
      consumerGroupId: name,
      onFailureTopic: dlq.name,
      maximumBatchingWindowSeconds: 0,
      ...overrides,
    },
  };
  return { spec, source: name, dlq: dlq.name };
}

/** Starts a mapping for `spec` whose handler is `handler`; records every invocation. */
async function start(
  spec: ConsumerSpec,
  handler: (event: MskEvent) => Promise<KafkaBatchResponse | undefined>,
  options: Partial<Parameters<typeof consumerMapping>[0]> = {},
) {
  const invocations: MskEvent[] = [];
  const logs: string[] = [];
  const mapping = consumerMapping({
    spec,
    log: (_level, message) => logs.push(message),
    kafka: testKafka(brokers, spec.name),
    handler: async (event) => {
      invocations.push(event);
      return handler(event);
    },
    writer,
    schemaOf: async (id) => contractOfLocalSchemaVersionId(id),
    bootstrapServers: brokers,
    eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
    retryBackoffMs: 10,
    ...options,
  });
  running.push(mapping);
  await mapping.start();
  return { mapping, invocations, logs };
}

const ids = schemaVersionIds(undefined);
/** `n` user events, Glue-framed, keyed so that they spread over partitions; ordered by `seq`. */
function events(n: number, run: string) {
  return Array.from({ length: n }, (_, seq) => {
    const t = (seq % 2 === 0 ? eventExamples.user_registered[0] : eventExamples.user_login[0]) as AnyEvent;
    return {
      ...t,
      eventId: crypto.randomUUID(),
      correlationId: `${run}-${seq}`,
      data: { ...t.data, userId: `u-${seq % 3}` },
    } as AnyEvent;
  });
}

async function produce(
  topic: string,
  messages: { key: string | null; value: Buffer | null; timestamp?: string }[],
) {
  const producer = durableProducer(kafka);
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

const framed = (list: AnyEvent[]) =>
  list.map((e) => ({ key: eventRecord(e, ids).message.key, value: eventRecord(e, ids).message.value }));
const delivered = (invocations: MskEvent[]) =>
  invocations.flatMap((e) =>
    Object.values(e.records)
      .flat()
      .map((r) => JSON.parse(Buffer.from(r.value as string, 'base64').toString())),
  );

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

async function committedAll(spec: ConsumerSpec): Promise<boolean> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(spec.sourceTopic),
    admin.fetchOffsets({ groupId: spec.mapping.consumerGroupId, topics: [spec.sourceTopic] }),
  ]);
  return ends.every(
    (e) =>
      committed[0]?.partitions.find((p) => p.partition === e.partition)?.offset === e.high || e.high === '0',
  );
}

const dlqLetters = async (dlq: string, n: number) =>
  (await readUntil(kafka, [dlq], () => true, n, 15_000)).map(
    (m) => JSON.parse(String(m.message.value)) as DeadLetter,
  );

describe('local event-source mapping', () => {
  it('delivers JSON in AWS shape, in batches of at most BatchSize, skipping what the filters exclude, then commits', async () => {
    const { spec, source } = await isolated({ batchSize: 3 });
    const run = unique('shape');
    const list = events(12, run);
    await produce(source, framed(list));
    const { invocations } = await start(spec, async () => ({ batchItemFailures: [] }));
    // user_login is not in the user consumer's filter: 6 of the 12 are delivered.
    await until(() => delivered(invocations).length >= 6);
    await until(() => false, 300).catch(() => {});
    const got = delivered(invocations);
    expect(got.map((e) => e.eventType)).toEqual(Array(6).fill('user_registered'));
    for (const event of invocations) {
      const records = Object.values(event.records).flat();
      expect(records.length).toBeLessThanOrEqual(3);
      expect(event).toMatchObject({ eventSource: 'aws:kafka', bootstrapServers: brokers });
      for (const [key, rs] of Object.entries(event.records)) {
        for (const r of rs) {
          expect(key).toBe(`${r.topic}-${r.partition}`);
          expect(r.valueSchemaMetadata).toEqual({ dataFormat: 'JSON', schemaId: ids('user_registered') });
          expect(r.timestampType).toBe('CREATE_TIME');
          expect(Buffer.from(r.key as string, 'base64').toString()).toMatch(/^user-u-\d$/);
        }
        // Ordered within the partition.
        const offsets = rs.map((r) => r.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
    }
    await until(() => false, 500).catch(() => {});
    expect(await committedAll(spec)).toBe(true);
  });

  it('sends undeserializable and unknown-schema records to the destination before invoking', async () => {
    const { spec, source, dlq } = await isolated();
    const good = events(1, unique('sr'))[0] as AnyEvent;
    await produce(source, [
      { key: 'user-u-1', value: Buffer.from(JSON.stringify(good)) }, // not Glue-framed
      {
        key: 'user-u-1',
        value: Buffer.concat([Buffer.from([3, 0]), Buffer.alloc(16, 7), Buffer.from('{}')]),
      },
      ...framed([good]).map((m) => ({ ...m, key: 'user-u-1' })),
    ]);
    const { invocations } = await start(spec, async () => ({ batchItemFailures: [] }));
    const letters = await dlqLetters(dlq, 2);
    expect(letters.map((l) => l.requestContext.condition).sort()).toEqual([
      'DESERIALIZATION_ERROR',
      'SCHEMA_NOT_FOUND',
    ]);
    for (const l of letters) expect(l.requestContext.approximateInvokeCount).toBe(0);
    await until(() => delivered(invocations).length === 1);
    expect(delivered(invocations)[0]).toEqual(good);
  });

  it('resumes a partial batch response from the lowest failed offset, in order', async () => {
    const { spec, source } = await isolated({ batchSize: 10 });
    const list = events(10, unique('partial')).filter((e) => e.eventType === 'user_registered');
    await produce(
      source,
      framed(list).map((m) => ({ ...m, key: 'user-u-1' })),
    );
    let failedOnce = false;
    const { invocations } = await start(spec, async (event) => {
      const records = Object.values(event.records).flat();
      const third = records.find((r) => r.offset === 2);
      if (third && !failedOnce) {
        failedOnce = true;
        return {
          batchItemFailures: [
            {
              itemIdentifier: {
                partition: `${third.topic}-${third.partition}`,
                offset: third.offset,
              },
            },
          ],
        };
      }
      return { batchItemFailures: [] };
    });
    await until(() => delivered(invocations).length >= list.length + 3);
    const offsetsPerInvocation = invocations.map((e) =>
      Object.values(e.records)
        .flat()
        .map((r) => r.offset),
    );
    expect(offsetsPerInvocation[0]).toEqual([0, 1, 2, 3, 4]);
    expect(offsetsPerInvocation[1]).toEqual([2, 3, 4]);
    await until(() => false, 300).catch(() => {});
    expect(await committedAll(spec)).toBe(true);
  });

  it('bisects a failing batch, retries the poison record, then dead-letters it with its history', async () => {
    const { spec, source, dlq } = await isolated({
      batchSize: 8,
      maximumRetryAttempts: 2,
      bisectBatchOnFunctionError: true,
    });
    const list = events(16, unique('bisect')).filter((e) => e.eventType === 'user_registered');
    const poisonId = list[5]?.eventId;
    await produce(
      source,
      framed(list).map((m) => ({ ...m, key: 'user-u-2' })),
    );
    const { invocations } = await start(spec, async (event) => {
      const records = Object.values(event.records)
        .flat()
        .map((r) => JSON.parse(Buffer.from(r.value as string, 'base64').toString()));
      if (records.some((e) => e.eventId === poisonId)) throw new Error('cannot process this one');
      return { batchItemFailures: [] };
    });
    const [letter] = await dlqLetters(dlq, 1);
    expect(letter?.requestContext).toMatchObject({
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    });
    expect(letter?.responseContext).toMatchObject({ functionError: 'Unhandled' });
    const original = Object.values(letter?.payload.records ?? {})[0]?.[0];
    expect(original?.offset).toBe(5);
    expect(letter?.errorInfo?.errorMessage).toBe('cannot process this one');
    // Every other record was delivered in a batch that succeeded.
    await until(() => false, 500).catch(() => {});
    const succeeded = new Set(
      invocations
        .map((e) =>
          Object.values(e.records)
            .flat()
            .map((r) => r.offset),
        )
        .filter((offsets) => !offsets.includes(5))
        .flat(),
    );
    expect([...succeeded].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(await committedAll(spec)).toBe(true);
  });

  it('treats a handler that overruns its timeout as failed', async () => {
    const { spec, source, dlq } = await isolated(
      { batchSize: 1, maximumRetryAttempts: 1 },
      { timeoutSeconds: 1 },
    );
    const [slow] = events(1, unique('slow'));
    await produce(source, framed([slow as AnyEvent]));
    await start(spec, async () => {
      await sleep(3000);
      return { batchItemFailures: [] };
    });
    const [letter] = await dlqLetters(dlq, 1);
    expect(letter?.requestContext).toMatchObject({
      condition: 'RetriesExhausted',
      approximateInvokeCount: 2,
    });
    expect(letter?.errorInfo?.errorMessage).toMatch(/timed out after 1 s/);
  });

  it('dead-letters records older than MaximumRecordAgeInSeconds without invoking', async () => {
    const { spec, source, dlq } = await isolated({ maximumRecordAgeSeconds: 60 });
    const [old] = events(1, unique('old'));
    const message = framed([old as AnyEvent])[0] as { key: string; value: Buffer };
    await produce(source, [{ ...message, timestamp: String(Date.now() - 120_000) }]);
    const { invocations } = await start(spec, async () => ({ batchItemFailures: [] }));
    const [letter] = await dlqLetters(dlq, 1);
    expect(letter?.requestContext.condition).toBe('RecordAgeExceeded');
    expect(invocations).toHaveLength(0);
  });

  it('fails the whole batch, and says why, when the partial batch response uses the earlier "topic-partition" key', async () => {
    const { spec, source } = await isolated({ batchSize: 10 });
    const list = events(10, unique('oldkey')).filter((e) => e.eventType === 'user_registered');
    await produce(
      source,
      framed(list).map((m) => ({ ...m, key: 'user-u-1' })),
    );
    let answered = false;
    const { invocations, logs } = await start(spec, async (event) => {
      const third = Object.values(event.records)
        .flat()
        .find((r) => r.offset === 2);
      if (third && !answered) {
        answered = true;
        // The spelling of an earlier revision of kafka-retry-configurations.html, which Lambda does not read.
        return {
          batchItemFailures: [
            { itemIdentifier: { 'topic-partition': `${third.topic}-${third.partition}`, offset: 2 } },
          ],
        } as unknown as KafkaBatchResponse;
      }
      return { batchItemFailures: [] };
    });
    await until(() => invocations.length >= 2);
    const offsets = invocations.map((e) =>
      Object.values(e.records)
        .flat()
        .map((r) => r.offset),
    );
    expect(offsets[0]).toEqual([0, 1, 2, 3, 4]);
    expect(offsets[1]).toEqual([0, 1, 2, 3, 4]);
    expect(logs.some((l) => /whole batch is retried.*"topic-partition".*"partition"/.test(l))).toBe(true);
    await until(() => false, 300).catch(() => {});
    expect(await committedAll(spec)).toBe(true);
  });

  it('dead-letters each expired record once and invokes the fresh ones, whatever the order of their timestamps', async () => {
    const { spec, source, dlq } = await isolated({ maximumRecordAgeSeconds: 60, batchSize: 10 });
    const list = events(8, unique('age')).filter((e) => e.eventType === 'user_registered');
    const old = String(Date.now() - 120_000);
    await produce(
      source,
      framed(list).map((m, i) => ({ ...m, key: 'user-u-1', ...(i % 2 === 1 ? { timestamp: old } : {}) })),
    );
    const { invocations } = await start(spec, async () => ({ batchItemFailures: [] }));
    const letters = await dlqLetters(dlq, 2);
    await until(() => delivered(invocations).length >= 2);
    await until(() => false, 1000).catch(() => {});
    const again = await readUntil(kafka, [dlq], () => true, 3, 2000);
    expect(again).toHaveLength(2); // each expired record once, not twice
    expect(letters.map((l) => l.requestContext.condition)).toEqual([
      'RecordAgeExceeded',
      'RecordAgeExceeded',
    ]);
    expect(letters.map((l) => Object.values(l.payload.records)[0]?.[0]?.offset).sort()).toEqual([1, 3]);
    const invoked = invocations.flatMap((e) =>
      Object.values(e.records)
        .flat()
        .map((r) => r.offset),
    );
    expect(invoked.sort()).toEqual([0, 2]);
    expect(await committedAll(spec)).toBe(true);
  });

  it('invokes as soon as BatchSize records are there, and waits the batching window for a partial batch', async () => {
    const { spec, source } = await isolated({ batchSize: 3, maximumBatchingWindowSeconds: 8 });
    const list = events(8, unique('window')).filter((e) => e.eventType === 'user_registered');
    const full = framed(list.slice(0, 3)).map((m) => ({ ...m, key: 'user-u-1' }));
    await produce(source, full);
    const started = Date.now();
    const { invocations } = await start(spec, async () => ({ batchItemFailures: [] }));
    await until(() => invocations.length >= 1, 10_000);
    // A full batch is not held back by the 8 s window (joining the group takes part of the time).
    expect(Date.now() - started).toBeLessThan(6000);
    expect(delivered(invocations)).toHaveLength(3);

    const produced = Date.now();
    await produce(
      source,
      framed([list[3] as AnyEvent]).map((m) => ({ ...m, key: 'user-u-1' })),
    );
    await until(() => invocations.length >= 2, 15_000);
    // A partial batch waits for the window (less the time it took to be read).
    expect(Date.now() - produced).toBeGreaterThanOrEqual(7000);
    expect(delivered(invocations.slice(1))).toHaveLength(1);
  });

  it('sends a record too large for an invocation payload to the destination as MaximumPayloadSizeExceeded', async () => {
    const base = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;
    const name = unique('payload');
    const large = 8 * 1024 * 1024;
    await ensureTopics(admin, [
      { ...topicNamed('user-events'), name, partitions: 1, maxMessageBytes: large },
      { ...topicNamed('user-events.dlq'), name: `${name}.dlq`, partitions: 1, maxMessageBytes: 2 * large },
    ]);
    const spec: ConsumerSpec = {
      ...base,
      name,
      sourceTopic: name,
      mapping: {
        ...base.mapping,
        consumerGroupId: name,
        onFailureTopic: `${name}.dlq`,
        maximumBatchingWindowSeconds: 0,
      },
    };
    // Without the schema registry the value is delivered as produced: 5 MB is about 6.7 MB of base64.
    const mapping = { ...mappingAsDeployed(spec.mapping), schemaRegistry: undefined, filters: [] };
    await produce(name, [
      { key: 'big', value: Buffer.alloc(5 * 1024 * 1024, 'x') },
      { key: 'small', value: Buffer.from('{"small":true}') },
    ]);
    const { invocations } = await start(spec, async () => ({ batchItemFailures: [] }), { mapping });
    const [letter] = await dlqLetters(`${name}.dlq`, 1);
    expect(letter?.requestContext).toMatchObject({
      condition: 'MaximumPayloadSizeExceeded',
      approximateInvokeCount: 0,
    });
    expect(letter?.responseContext).toBeNull();
    await until(() => invocations.length >= 1);
    const invoked = invocations.flatMap((e) =>
      Object.values(e.records)
        .flat()
        .map((r) => r.offset),
    );
    expect(invoked).toEqual([1]);
    await until(() => false, 300).catch(() => {});
    expect(await committedAll(spec)).toBe(true);
  });

  it('delivers SOURCE records without their Glue header, skips validation when validateValue is off, and applies no value filter', async () => {
    const { spec, source, dlq } = await isolated({
      schemaRegistry: { eventRecordFormat: 'SOURCE', validateValue: false },
    });
    const [registered, login] = events(2, unique('source')) as [AnyEvent, AnyEvent];
    const violating = {
      ...registered,
      eventId: crypto.randomUUID(),
      data: { ...registered.data, unexpected: 1 },
    };
    const sent = [registered, login, violating as AnyEvent];
    await produce(
      source,
      framed(sent).map((m) => ({ ...m, key: 'user-u-1' })),
    );
    const { invocations } = await start(spec, async () => ({ batchItemFailures: [] }));
    await until(() => delivered(invocations).length >= 3);
    expect(delivered(invocations)).toEqual(sent);
    for (const r of invocations.flatMap((e) => Object.values(e.records).flat())) {
      // "Lambda removes all schema metadata, such as the schema ID" (EventRecordFormat SOURCE).
      expect(r.valueSchemaMetadata).toBeUndefined();
    }
    expect(await readUntil(kafka, [dlq], () => true, 1, 1500)).toHaveLength(0);
  });

  it('heartbeats while the function runs: an invocation longer than the session timeout is not delivered twice', async () => {
    const { spec, source } = await isolated({ batchSize: 10 }, { timeoutSeconds: 30 });
    const [one] = events(1, unique('long'));
    await produce(
      source,
      framed([one as AnyEvent]).map((m) => ({ ...m, key: 'user-u-1' })),
    );
    const { invocations } = await start(
      spec,
      async () => {
        if (invocations.length === 1) await sleep(11_000);
        return { batchItemFailures: [] };
      },
      { sessionTimeoutMs: 6000 },
    );
    await until(() => invocations.length >= 1);
    await until(() => false, 13_000).catch(() => {});
    expect(invocations).toHaveLength(1);
    expect(await committedAll(spec)).toBe(true);
  }, 60_000);
});
