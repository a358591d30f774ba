/**
 * The local event-source mapping as a library (local/esm/index.ts), on the real broker, with a
 * handler, topics, settings and schema registry of its own: plain JSON values and a one-field
 * validator, nothing of this project's topology or contracts. Batch size, filters, partial batch
 * responses, retries with the on-failure destination, the schema-registry step, and the errors
 * bad options get.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encode } from '../../core/glue-wire-format';
import type { KafkaBatchResponse, MskEvent, MskRecord } from '../../core/msk-event';
import {
  FilterPatternError,
  LocalEventSourceMapping,
  type LocalEventSourceMappingOptions,
  MappingSettingsError,
  type MskEventSourceMappingSettings,
  type SchemaRegistry,
} from '../../local/esm/index';
import { durableProducer, readUntil, testKafka, unique } from '../support/kafka-clients';

const brokers = inject('kafkaBrokers');
let kafka: Kafka;
let admin: Admin;
const running: LocalEventSourceMapping[] = [];

beforeAll(async () => {
  kafka = testKafka(brokers, 'esm-library-it');
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(running.map((m) => m.stop()));
  await admin.disconnect();
});

/** A topic of one partition and its on-failure topic, both new. */
async function topics(prefix: string) {
  const topic = unique(prefix);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 1 },
      { topic: `${topic}-failed`, numPartitions: 1 },
    ],
  });
  return { topic, failed: `${topic}-failed` };
}

async function produce(topic: string, values: Buffer[]) {
  const producer = durableProducer(kafka);
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const records = (event: MskEvent): MskRecord[] => Object.values(event.records).flat();
const jsonOf = (r: MskRecord) => JSON.parse(Buffer.from(r.value as string, 'base64').toString());

/** Starts a mapping of `topic` whose handler is `handler`; records every invocation. */
async function start(
  topic: string,
  settings: Omit<MskEventSourceMappingSettings, 'StartingPosition'>,
  handler: (event: MskEvent) => Promise<unknown>,
  options: Partial<LocalEventSourceMappingOptions> = {},
) {
  const invocations: MskEvent[] = [];
  const mapping = new LocalEventSourceMapping({
    functionName: `fn-${topic}`,
    topic,
    brokers,
    settings: {
      StartingPosition: 'TRIM_HORIZON',
      MaximumBatchingWindowInSeconds: 0,
      ...settings,
      AmazonManagedKafkaEventSourceConfig: {
        ConsumerGroupId: `group-${topic}`,
        ...settings.AmazonManagedKafkaEventSourceConfig,
      },
    },
    handler: async (event) => {
      invocations.push(event);
      return handler(event);
    },
    retryBackoffMs: 10,
    ...options,
  });
  running.push(mapping);
  await mapping.start();
  return { mapping, invocations };
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

/** Whether the group has committed every record of the topic. */
async function committedAll(topic: string): Promise<boolean> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: `group-${topic}`, topics: [topic] }),
  ]);
  return ends.every((e) => committed?.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
}

async function eventuallyCommitted(topic: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await committedAll(topic))) {
    if (Date.now() > deadline) throw new Error(`${topic}: not every record was committed`);
    await sleep(100);
  }
}

interface Letter {
  requestContext: { condition: string; approximateInvokeCount: number; functionArn: string };
  payload: { records: Record<string, { offset: number; value: string | null }[]> };
  errorInfo: { errorMessage: string; issues?: { path: string; message: string }[] };
}

const letters = async (topic: string, n: number) =>
  (await readUntil(kafka, [topic], () => true, n, 15_000)).map(
    (m) => JSON.parse(String(m.message.value)) as Letter,
  );

describe('local event-source mapping library', () => {
  it('invokes with at most BatchSize records in the MSK event shape, skips what FilterCriteria excludes, and commits', async () => {
    const { topic } = await topics('lib-batch');
    const sent = Array.from({ length: 9 }, (_, n) => ({ kind: n % 3 === 2 ? 'drop' : 'keep', n }));
    await produce(topic, sent.map(json));
    const { invocations } = await start(
      topic,
      {
        BatchSize: 2,
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ value: { kind: ['keep'] } }) }] },
      },
      async () => undefined,
    );
    const kept = sent.filter((v) => v.kind === 'keep');
    await until(() => invocations.flatMap(records).length >= kept.length);
    expect(invocations.flatMap(records).map(jsonOf)).toEqual(kept);
    for (const event of invocations) {
      expect(records(event).length).toBeLessThanOrEqual(2);
      expect(event).toMatchObject({ eventSource: 'aws:kafka', bootstrapServers: brokers });
      expect(Object.keys(event.records)).toEqual([`${topic}-0`]);
    }
    expect(invocations.some((e) => records(e).length === 2)).toBe(true);
    await eventuallyCommitted(topic);
  });

  it('retries from the lowest failed record of a partial batch response, not the records before it', async () => {
    const { topic } = await topics('lib-partial');
    await produce(
      topic,
      [0, 1, 2, 3].map((n) => json({ n })),
    );
    const { invocations } = await start(
      topic,
      { BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] },
      async (event): Promise<KafkaBatchResponse> => {
        if (invocations.length > 1) return { batchItemFailures: [] };
        const failed = records(event).find((r) => jsonOf(r).n === 2) as MskRecord;
        return {
          batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: failed.offset } }],
        };
      },
    );
    await until(() => invocations.length >= 2);
    expect(records(invocations[0] as MskEvent).map((r) => jsonOf(r).n)).toEqual([0, 1, 2, 3]);
    expect(records(invocations[1] as MskEvent).map((r) => jsonOf(r).n)).toEqual([2, 3]);
    await eventuallyCommitted(topic);
    expect(invocations).toHaveLength(2);
  });

  it('retries a failing batch MaximumRetryAttempts times, then writes each record to the kafka:// on-failure destination', async () => {
    const { topic, failed } = await topics('lib-retries');
    await produce(topic, [json({ n: 0 }), json({ n: 1 })]);
    const { invocations } = await start(
      topic,
      {
        BatchSize: 10,
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: `kafka://${failed}` } },
      },
      async () => {
        throw new Error('the handler always fails');
      },
    );
    const written = await letters(failed, 2);
    // One invocation and two retries, each with the whole batch.
    expect(invocations.map((e) => records(e).length)).toEqual([2, 2, 2]);
    expect(written).toHaveLength(2);
    for (const [i, letter] of written.entries()) {
      expect(letter.requestContext).toMatchObject({
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      });
      expect(letter.requestContext.functionArn).toContain(`function:fn-${topic}`);
      expect(letter.errorInfo.errorMessage).toBe('the handler always fails');
      const [original] = letter.payload.records[`${topic}-0`] ?? [];
      expect(original?.offset).toBe(i);
      expect(JSON.parse(Buffer.from(original?.value as string, 'base64').toString())).toEqual({ n: i });
    }
    await eventuallyCommitted(topic);
  });

  it('runs the schema-registry step with the registry it is given: JSON delivery, validation, unknown schemas', async () => {
    const { topic, failed } = await topics('lib-registry');
    const known = crypto.randomUUID();
    const unknown = crypto.randomUUID();
    const lookedUp: string[] = [];
    // A registry of one schema version: an object whose `n` is a number.
    const registry: SchemaRegistry = {
      async lookup(id) {
        lookedUp.push(id);
        if (id !== known) return undefined;
        return {
          name: 'counter',
          validate: (value) =>
            typeof (value as { n?: unknown })?.n === 'number'
              ? []
              : [{ path: '/n', message: 'must be a number' }],
        };
      },
    };
    await produce(topic, [
      encode(known, json({ n: 1 })),
      encode(known, json({ n: 'one' })),
      encode(unknown, json({ n: 2 })),
      json({ n: 3 }),
    ]);
    const { invocations } = await start(
      topic,
      {
        BatchSize: 10,
        DestinationConfig: { OnFailure: { Destination: `kafka://${failed}` } },
        AmazonManagedKafkaEventSourceConfig: {
          SchemaRegistryConfig: {
            EventRecordFormat: 'JSON',
            SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
          },
        },
      },
      async () => undefined,
      { schemaRegistry: registry },
    );
    const written = await letters(failed, 3);
    await until(() => invocations.length >= 1);
    const delivered = invocations.flatMap(records);
    expect(delivered.map(jsonOf)).toEqual([{ n: 1 }]);
    expect(delivered[0]?.valueSchemaMetadata).toEqual({ dataFormat: 'JSON', schemaId: known });
    const byOffset = new Map(written.map((l) => [l.payload.records[`${topic}-0`]?.[0]?.offset, l]));
    expect(byOffset.get(1)?.requestContext.condition).toBe('DESERIALIZATION_ERROR');
    expect(byOffset.get(1)?.errorInfo.errorMessage).toContain(`counter (${known})`);
    expect(byOffset.get(1)?.errorInfo.issues).toEqual([{ path: '/n', message: 'must be a number' }]);
    expect(byOffset.get(2)?.requestContext.condition).toBe('SCHEMA_NOT_FOUND');
    expect(byOffset.get(3)?.requestContext.condition).toBe('DESERIALIZATION_ERROR');
    expect(new Set(lookedUp)).toEqual(new Set([known, unknown]));
    await eventuallyCommitted(topic);
  });

  it('prepares records as each invocation batch is gathered, looks a schema version up once, and dead-letters records as read', async () => {
    const { topic, failed } = await topics('lib-lazy');
    const id = crypto.randomUUID();
    const lookups: string[] = [];
    let validated = 0;
    const registry: SchemaRegistry = {
      async lookup(schemaVersionId) {
        lookups.push(schemaVersionId);
        return schemaVersionId === id
          ? {
              validate: () => {
                validated++;
                return [];
              },
            }
          : undefined;
      },
    };
    const values = Array.from({ length: 40 }, (_, n) => encode(id, json({ n })));
    await produce(topic, values);
    /** How many records the mapping had validated when each invocation started. */
    const validatedAtInvocation: number[] = [];
    const { invocations } = await start(
      topic,
      {
        BatchSize: 5,
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: `kafka://${failed}` } },
        AmazonManagedKafkaEventSourceConfig: {
          SchemaRegistryConfig: {
            EventRecordFormat: 'JSON',
            SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
          },
        },
      },
      async (event) => {
        validatedAtInvocation.push(validated);
        if (records(event).some((r) => jsonOf(r).n === 7)) throw new Error('record 7 fails');
        return undefined;
      },
      { schemaRegistry: registry },
    );
    const [letter] = await letters(failed, 5);
    await eventuallyCommitted(topic);
    expect(invocations.flatMap(records).map((r) => jsonOf(r).n)).toEqual(values.map((_, n) => n));
    // The 40 records came in one fetch; each batch of 5 was validated just before its invocation,
    // not the whole fetch before the first one.
    expect(validatedAtInvocation).toEqual(invocations.map((_, i) => 5 * (i + 1)));
    expect(validated).toBe(40);
    // A schema version found once is not looked up again.
    expect(lookups).toEqual([id]);
    // The failed batch (records 5-9) went to the destination as read from Kafka: Glue-framed values.
    const original = letter?.payload.records[`${topic}-0`]?.[0];
    expect(original?.offset).toBe(5);
    expect(Buffer.from(original?.value as string, 'base64')).toEqual(values[5]);
  });

  it('refuses options and settings Lambda would refuse or that it cannot run, saying which and why', () => {
    const base: LocalEventSourceMappingOptions = {
      functionName: 'fn',
      topic: 't',
      brokers: '127.0.0.1:9',
      handler: async () => undefined,
      settings: { StartingPosition: 'LATEST' },
    };
    const make = (o: Partial<LocalEventSourceMappingOptions>) => () =>
      new LocalEventSourceMapping({ ...base, ...o });
    const settings = (s: Partial<MskEventSourceMappingSettings>) =>
      make({ settings: { ...base.settings, ...s } });
    expect(make({})).not.toThrow();
    expect(settings({ BatchSize: 0 })).toThrow(/BatchSize must be an integer from 1 to 10000, not 0/);
    expect(settings({ MaximumBatchingWindowInSeconds: 301 })).toThrow(MappingSettingsError);
    expect(settings({ MaximumRecordAgeInSeconds: 30 })).toThrow(/MaximumRecordAgeInSeconds must be -1 or 60/);
    expect(settings({ StartingPosition: 'AT_TIMESTAMP' })).toThrow(/StartingPositionTimestamp/);
    expect(settings({ StartingPosition: 'EARLIEST' as never })).toThrow(/StartingPosition must be one of/);
    expect(
      settings({ DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' } } }),
    ).toThrow(/kafka:\/\/<topic>/);
    expect(settings({ FilterCriteria: { Filters: [{ Pattern: '{not json' }] } })).toThrow(FilterPatternError);
    expect(
      settings({ FilterCriteria: { Filters: [{ Pattern: '{"value":{"a":[{"wildcard":"**"}]}}' }] } }),
    ).toThrow(FilterPatternError);
    expect(
      settings({
        AmazonManagedKafkaEventSourceConfig: { SchemaRegistryConfig: { EventRecordFormat: 'JSON' } },
      }),
    ).toThrow(/schemaRegistry option/);
    expect(make({ brokers: undefined })).toThrow(/kafka \(a kafkajs Kafka\) or brokers/);
    expect(make({ brokers: undefined, kafka })).toThrow(/bootstrapServers/);
    expect(make({ timeoutSeconds: 901 })).toThrow(/timeoutSeconds must be an integer from 1 to 900/);
    expect(make({ functionName: '' })).toThrow(/functionName/);
  });
});
