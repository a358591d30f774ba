/**
 * Analytics on the real broker and a real DynamoDB API (moto's server, as `npm start` runs it): events
 * written to the source topics are read by local event-source mappings of the analytics function
 * (one per source topic, each in its own group) and counted into the table, which the test queries
 * directly. Each run counts on days of its own (a random year), so events of other tests on the
 * shared broker, counted on their own days, do not disturb it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { analyticsSourceSpec } from '../../core/analytics';
import { mappingAsDeployed } from '../../core/mapping';
import type { KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { eventRecord, schemaVersionIds } from '../../core/records';
import { analytics } from '../../core/topology';
import { analyticsClient } from '../../lambdas/analytics/store';
import { ensureTopics } from '../../lambdas/shared/topics';
import { ensureAnalyticsTable } from '../../local/analytics-table';
import { consumerMapping } from '../../local/consumer-mapping';
import type { LocalEventSourceMapping } from '../../local/esm/index';
import type { AsyncHandler } from '../../local/lambda';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter, EventType } from '../../schemas/index';
import { contractOfLocalSchemaVersionId } from '../../schemas/registry';
import { type DayTotals, dayTotalsInTable } from '../support/analytics-table';
import { kafkaTest } from '../support/fixtures';
import { durableProducer, readUntil, testKafka, unique } from '../support/kafka-clients';
import { startMoto } from '../support/python-tools';

const it = kafkaTest('analytics-it');
/** The context Lambda gives an invocation, as far as the function reads it. */
const context = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:analytics',
  functionName: 'analytics',
} as never;

let moto: Awaited<ReturnType<typeof startMoto>>;
let client: DynamoDBClient;
const tableName = unique('analytics');
const mappings: LocalEventSourceMapping[] = [];
/** Every batch the mappings handed to the function, with its answer. */
const invocations: { event: MskEvent; response: KafkaBatchResponse | undefined }[] = [];
let handler: AsyncHandler<MskEvent, KafkaBatchResponse | undefined>;

// Days no other test writes events on.
const year = 2040 + Math.floor(Math.random() * 900);
const DAY1 = `${year}-03-01`;
const DAY2 = `${year}-03-02`;

/** The day's items read straight from the table. */
const dayTotals = (day: string): Promise<DayTotals> => dayTotalsInTable(client, tableName, day);

let serial = 0;
function event<T extends EventType>(
  type: T,
  occurredAt: string,
  data: Record<string, unknown> = {},
): AnyEvent {
  const example = eventExamples[type][0] as AnyEvent;
  serial++;
  return {
    ...example,
    eventId: crypto.randomUUID(),
    correlationId: `analytics-it-${serial}`,
    occurredAt,
    data: { ...example.data, ...data },
  } as AnyEvent;
}

const ids = schemaVersionIds(undefined);

async function produce(
  kafka: Parameters<typeof durableProducer>[0],
  events: AnyEvent[],
  extra: { topic: string; key: string; value: Buffer }[] = [],
) {
  const producer = durableProducer(kafka);
  await producer.connect();
  const byTopic = new Map<string, { key: string | null; value: Buffer | null }[]>();
  for (const e of events) {
    const { topic, message } = eventRecord(e, ids);
    byTopic.set(topic.name, [
      ...(byTopic.get(topic.name) ?? []),
      { key: message.key as string, value: message.value as Buffer },
    ]);
  }
  for (const x of extra)
    byTopic.set(x.topic, [...(byTopic.get(x.topic) ?? []), { key: x.key, value: x.value }]);
  for (const [topic, messages] of byTopic) await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

async function eventually(check: () => Promise<void>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

it.beforeAll(async ({ admin, brokers, writer }) => {
  await ensureTopics(admin);
  moto = await startMoto();
  const env = { DYNAMODB_ENDPOINT: moto.endpoint, ANALYTICS_TABLE: tableName };
  client = await analyticsClient({ ...process.env, ...env });
  await ensureAnalyticsTable(client, tableName);
  Object.assign(process.env, env, {
    KAFKA_BROKERS: brokers,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const module = await import('../../lambdas/analytics/handler');
  handler = module.createHandler({ writer: () => writer }) as unknown as typeof handler;
  const startAt = new Date(Date.now() - 5_000).toISOString();
  for (const source of analytics.sources) {
    const spec = analyticsSourceSpec(source);
    const mapping = consumerMapping({
      spec,
      // The deployed settings in a group of this run, starting at this run's records.
      mapping: {
        ...mappingAsDeployed(spec.mapping),
        consumerGroupId: unique(`analytics-it-${source.topic}`),
        startingPosition: { type: 'AT_TIMESTAMP', timestamp: startAt },
        maximumBatchingWindowSeconds: 0,
      },
      kafka: testKafka(brokers, `analytics-it-${source.topic}`),
      handler: async (e, context) => {
        const response = await handler(e, context);
        invocations.push({ event: e, response });
        return response;
      },
      writer,
      schemaOf: async (id) => contractOfLocalSchemaVersionId(id),
      bootstrapServers: brokers,
      eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
      retryBackoffMs: 50,
    });
    mappings.push(mapping);
    await mapping.start();
  }
});

it.afterAll(async () => {
  await Promise.all(mappings.map((m) => m.stop()));
  client?.destroy();
  await moto?.stop();
});

describe('analytics on the real broker and a DynamoDB endpoint', () => {
  const expected1: DayTotals = {
    counts: {
      user_registered: 2,
      user_login: 4,
      order_created: 3,
      payment_processed: 3,
      payment_refunded: 2,
      payment_failed: 1,
    },
    revenue: { EUR: 4248 + 1000 - 1999, USD: 700 - 700 },
    activeUsers: 2,
  };
  const expected2: DayTotals = {
    counts: { order_cancelled: 1, user_login: 1, payment_processed: 1 },
    revenue: { JPY: 5000 },
    activeUsers: 1,
  };

  it('counts what was sent per day and type, revenue net of refunds, distinct active users; an eventId sent twice once', async ({
    kafka,
  }) => {
    const twice = event('order_created', `${DAY1}T10:00:00Z`);
    const first = [
      event('user_registered', `${DAY1}T08:00:00Z`),
      event('user_registered', `${DAY1}T08:30:00+02:00`), // still DAY1 in UTC (06:30Z)
      event('user_login', `${DAY1}T09:00:00Z`, { userId: 'u-a' }),
      event('user_login', `${DAY1}T09:05:00Z`, { userId: 'u-a' }),
      event('user_login', `${DAY1}T09:10:00Z`, { userId: 'u-b' }),
      event('user_login', `${DAY2}T00:30:00+01:00`, { userId: 'u-b' }), // DAY1 in UTC
      twice,
      event('order_created', `${DAY1}T11:00:00Z`),
      event('order_created', `${DAY1}T12:00:00Z`),
      event('payment_processed', `${DAY1}T12:00:00Z`, { amount: 4248, currency: 'EUR' }),
      event('payment_processed', `${DAY1}T12:00:00Z`, { amount: 1000, currency: 'EUR' }),
      event('payment_processed', `${DAY1}T12:00:00Z`, { amount: 700, currency: 'USD' }),
      event('payment_refunded', `${DAY1}T13:00:00Z`, { amount: 1999, currency: 'EUR' }),
      event('payment_refunded', `${DAY1}T13:00:00Z`, { amount: 700, currency: 'USD' }),
      event('payment_failed', `${DAY1}T13:00:00Z`, { amount: 300, currency: 'USD' }),
      event('order_cancelled', `${DAY2}T09:00:00Z`),
      event('user_login', `${DAY2}T09:00:00Z`, { userId: 'u-a' }),
      event('payment_processed', `${DAY2}T09:00:00Z`, { amount: 5000, currency: 'JPY' }),
    ];
    await produce(kafka, first);
    // The same event again, as a client retrying after a timeout would send it.
    await produce(kafka, [{ ...twice }]);
    await eventually(async () => {
      expect(await dayTotals(DAY1)).toEqual(expected1);
      expect(await dayTotals(DAY2)).toEqual(expected2);
    });
    // Every record was handed over (19) and nothing more is counted after a pause.
    await sleep(1500);
    expect(await dayTotals(DAY1)).toEqual(expected1);
    expect(await dayTotals(DAY2)).toEqual(expected2);
    const ours = invocations.flatMap((i) =>
      Object.values(i.event.records)
        .flat()
        .filter((r) => {
          const value = Buffer.from(r.value as string, 'base64').toString();
          return value.includes(`"occurredAt":"${DAY1}`) || value.includes(`"occurredAt":"${DAY2}`);
        }),
    );
    expect(ours.length).toBeGreaterThanOrEqual(first.length + 1);
  });

  it('counts a redelivered batch once', async () => {
    const delivered = invocations.filter((i) =>
      Object.values(i.event.records)
        .flat()
        .some((r) =>
          Buffer.from(r.value as string, 'base64')
            .toString()
            .includes(`"occurredAt":"${DAY1}`),
        ),
    );
    expect(delivered.length).toBeGreaterThan(0);
    for (const { event: batch } of delivered) {
      expect(await handler(batch, context)).toEqual({ batchItemFailures: [] });
    }
    expect(await dayTotals(DAY1)).toEqual(expected1);
    expect(await dayTotals(DAY2)).toEqual(expected2);
  });

  it('dead-letters a record it cannot read to <topic>.dlq and counts the rest', async ({ kafka }) => {
    const key = unique('analytics-poison');
    const good = event('order_updated', `${DAY2}T15:00:00Z`);
    // A valid user_login, Glue-framed, on order-events: the mapping's schema step passes it, the
    // function finds it does not belong on the topic.
    const stray = eventRecord(event('user_login', `${DAY2}T15:00:00Z`, { userId: 'u-z' }), ids).message;
    await produce(kafka, [good], [{ topic: 'order-events', key, value: stray.value as Buffer }]);
    await eventually(async () => {
      expect((await dayTotals(DAY2)).counts.order_updated).toBe(1);
    });
    const letters = await readUntil(
      kafka,
      ['order-events.dlq'],
      (m) =>
        m.message.key?.toString() === key &&
        (JSON.parse(m.message.value?.toString() as string) as DeadLetter).errorInfo?.handler === 'analytics',
      1,
    );
    const letter = JSON.parse(letters[0]?.message.value?.toString() as string) as DeadLetter;
    expect(letter.requestContext.condition).toBe('RecordRejected');
    expect(letter.errorInfo?.errorType).toBe('UnexpectedEventType');
    expect(await dayTotals(DAY2)).toEqual({
      ...expected2,
      counts: { ...expected2.counts, order_updated: 1 },
    });
  });
});
