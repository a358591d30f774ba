/**
 * Lambda entry point of the analytics function (core/topology.ts `analytics`): each MSK batch of
 * user-events, order-events or payment-events counted exactly once into the analytics table.
 *
 * Per record, in partition order, the record is read and checked exactly as the other consumers do
 * (lambdas/consumers/consumer.ts `readEvent`, against the record's own source topic); a record that
 * can never be read is written to `<topic>.dlq` as a dead letter (core/dead-letter.ts) and the batch
 * goes on. The readable events are counted by ./store.ts (one transaction per chunk of at most 100
 * actions, each event's marker conditioned on being new). If the dead letters cannot be written or
 * the counting fails, each affected partition is reported from its lowest affected offset in the
 * partial batch response, so Lambda retries those records and the ones after them
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html); the retried events
 * that were counted already are dropped by their markers.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { analyticsSourceSpec, type Countable, countable } from '../../core/analytics';
import { deadLetterFor, deadLetterMessage, type InvocationInfo, PoisonRecord } from '../../core/dead-letter';
import { readEnvironment } from '../../core/env';
import {
  type DecodedRecord,
  decodeMskEvent,
  itemFailure,
  type KafkaBatchResponse,
  type MskEvent,
} from '../../core/msk-event';
import { contractOfSchemaVersionId } from '../../core/records';
import { analytics, type ConsumerSpec } from '../../core/topology';
import type { ContractName } from '../../schemas/index';
import { type BatchCounts, readEvent } from '../consumers/consumer';
import { batchMetrics } from '../consumers/metrics';
import type { HandlerOptions, KafkaWriter, OutgoingMessage, WriterFactory } from '../shared/kafka';
import { KafkaUnavailableError } from '../shared/kafka-errors';
import { observability } from '../shared/observability';
import { type AnalyticsStore, analyticsClient, analyticsTable, dynamoStore, StoreFailure } from './store';

/** Each source topic's reading spec. */
const SOURCES = new Map<string, ConsumerSpec>(
  analytics.sources.map((s) => [s.topic, analyticsSourceSpec(s)]),
);

export interface AnalyticsDependencies {
  readonly writer: KafkaWriter;
  readonly store: AnalyticsStore;
  readonly contractOf: (schemaVersionId: string) => ContractName | undefined;
  readonly now?: () => Date;
  readonly log?: (level: 'warn' | 'error', message: string, details: Record<string, unknown>) => void;
}

export interface AnalyticsBatchResult {
  readonly response: KafkaBatchResponse;
  /** Per event type: received, processed (counted now or before), deadLettered, failed. */
  readonly counts: BatchCounts;
  /** Events counted by this batch, and events it found counted already. */
  readonly counted: number;
  readonly duplicates: number;
}

function tally(
  counts: BatchCounts,
  eventType: string,
  outcome: 'received' | 'processed' | 'failed' | 'deadLettered',
) {
  let entry = counts.get(eventType);
  if (!entry) {
    entry = { received: 0, processed: 0, derived: 0, failed: 0, deadLettered: 0 };
    counts.set(eventType, entry);
  }
  entry[outcome]++;
}

const lowest = (failures: Map<string, number>, record: DecodedRecord) => {
  const current = failures.get(record.topicPartition);
  if (current === undefined || record.raw.offset < current)
    failures.set(record.topicPartition, record.raw.offset);
};

/** Counts one MSK event. Throws only for a failure that is not about a record (a bug, a misconfiguration). */
export async function countBatch(
  event: MskEvent,
  invocation: InvocationInfo,
  deps: AnalyticsDependencies,
): Promise<AnalyticsBatchResult> {
  const now = deps.now?.() ?? new Date();
  const counts: BatchCounts = new Map();
  const good: { record: DecodedRecord; event: Countable; eventType: string }[] = [];
  const dead: { record: DecodedRecord; eventType: string; topic: string; message: OutgoingMessage }[] = [];

  for (const record of decodeMskEvent(event)) {
    const spec = SOURCES.get(record.raw.topic);
    if (!spec) {
      throw new Error(
        `record of ${record.topicPartition}: ${record.raw.topic} is not an analytics source (core/topology.ts analytics.sources)`,
      );
    }
    let eventType = 'unknown';
    try {
      const source = readEvent(record, { spec, contractOf: deps.contractOf });
      eventType = source.eventType;
      let item: Countable;
      try {
        item = countable(source);
      } catch (error) {
        throw new PoisonRecord('UncountableEvent', (error as Error).message);
      }
      tally(counts, eventType, 'received');
      good.push({ record, event: item, eventType });
    } catch (error) {
      if (!(error instanceof PoisonRecord)) throw error;
      tally(counts, eventType, 'received');
      const letter = deadLetterFor(record, event, error, invocation, now);
      dead.push({
        record,
        eventType,
        topic: spec.mapping.onFailureTopic,
        message: deadLetterMessage(record, letter),
      });
      deps.log?.('warn', 'record dead-lettered', {
        topicPartition: record.topicPartition,
        offset: record.raw.offset,
        errorType: error.errorType,
        reason: error.message,
      });
    }
  }

  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const d of dead) byTopic.set(d.topic, [...(byTopic.get(d.topic) ?? []), d.message]);
  const [written, stored] = await Promise.allSettled([
    dead.length > 0
      ? deps.writer.send([...byTopic].map(([topic, messages]) => ({ topic, messages })))
      : Promise.resolve(),
    good.length > 0
      ? deps.store.count(good.map((g) => g.event))
      : Promise.resolve({ counted: 0, duplicates: 0 }),
  ]);

  /** Per partition, the lowest offset to retry from. */
  const failures = new Map<string, number>();
  let deadFailed = false;
  if (written.status === 'rejected') {
    if (!(written.reason instanceof KafkaUnavailableError)) throw written.reason;
    deadFailed = true;
    for (const d of dead) lowest(failures, d.record);
    deps.log?.('error', 'writing dead letters failed; their partitions will be retried', {
      error: written.reason.message,
    });
  }
  let counted = 0;
  let uncounted: ReadonlySet<string> = new Set();
  if (stored.status === 'rejected') {
    if (!(stored.reason instanceof StoreFailure)) throw stored.reason;
    counted = stored.reason.counted;
    uncounted = stored.reason.uncounted;
    for (const g of good) if (uncounted.has(g.event.eventId)) lowest(failures, g.record);
    deps.log?.('error', 'counting failed; the partitions will be retried', {
      error: stored.reason.message,
      uncounted: uncounted.size,
    });
  } else {
    counted = stored.value.counted;
  }

  // Lambda resumes a reported partition from the reported offset: every record from there is retried.
  const retried = (record: DecodedRecord) => {
    const from = failures.get(record.topicPartition);
    return from !== undefined && record.raw.offset >= from;
  };
  for (const g of good) tally(counts, g.eventType, retried(g.record) ? 'failed' : 'processed');
  for (const d of dead)
    tally(counts, d.eventType, deadFailed || retried(d.record) ? 'failed' : 'deadLettered');
  const processed = good.filter((g) => !retried(g.record) && !uncounted.has(g.event.eventId)).length;
  return {
    response: {
      batchItemFailures: [...failures].map(([topicPartition, offset]) => itemFailure(topicPartition, offset)),
    },
    counts,
    counted,
    duplicates: Math.max(0, processed - counted),
  };
}

export interface AnalyticsHandlerOptions extends HandlerOptions {
  /** @default the DynamoDB table of `ANALYTICS_TABLE` (at `DYNAMODB_ENDPOINT` when set) */
  readonly store?: AnalyticsStore;
}

/**
 * The container's producer, with kafkajs loaded at the first write: this function writes to Kafka
 * only for dead letters, and loading kafkajs is most of what its start would cost beyond the AWS SDK's
 * (BENCHMARKS.md, cold start). esbuild keeps the module in the bundle, evaluated when first imported.
 */
const lazyContainerWriter: WriterFactory = (settings, log) => {
  let writer: Promise<KafkaWriter> | undefined;
  return {
    async send(batch) {
      writer ??= import('../shared/kafka').then((kafka) => kafka.containerWriter(settings, log));
      return (await writer).send(batch);
    },
  };
};

/** The analytics function, writing dead letters with `options.writer` (the container's producer by default). */
export function createHandler(options: AnalyticsHandlerOptions = {}) {
  const environment = readEnvironment();
  const { logger, metrics, tracing, serviceName, namespace } = observability(analytics.name);
  const log = (level: 'warn' | 'error', message: string, details: Record<string, unknown>) =>
    logger[level](message, details);
  const writer = (options.writer ?? lazyContainerWriter)(environment.kafka, (level, message, details) =>
    logger[level](message, details),
  );
  // The table is read at the first batch, so loading the code needs no table (as the other functions).
  let store = options.store;
  const deps = async (): Promise<AnalyticsDependencies> => {
    store ??= dynamoStore({ client: await analyticsClient(), tableName: analyticsTable() });
    return { writer, store, contractOf: contractOfSchemaVersionId(environment.schemaVersionIds), log };
  };
  const publishers = new Map<string, ReturnType<typeof batchMetrics>>();

  async function consume(event: MskEvent, context: Context): Promise<KafkaBatchResponse> {
    const result = await countBatch(event, context, await deps());
    const topics = new Set(Object.values(event.records).flatMap((r) => r.map((x) => x.topic)));
    for (const topic of topics) {
      let publish = publishers.get(topic);
      if (!publish) {
        publish = batchMetrics(topic, { serviceName, namespace });
        publishers.set(topic, publish);
      }
      // One mapping per topic, so a batch holds one topic's records.
      publish(result.counts);
    }
    metrics.addMetric('EventsCounted', MetricUnit.Count, result.counted);
    metrics.addMetric('EventsAlreadyCounted', MetricUnit.Count, result.duplicates);
    logger.info('batch counted', {
      counted: result.counted,
      alreadyCounted: result.duplicates,
      retried: result.response.batchItemFailures.length,
    });
    return result.response;
  }

  return middy(consume).use(tracing).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export const handler = createHandler();
