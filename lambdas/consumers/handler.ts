/**
 * Wiring of a consumer function: the container's producer, Powertools, and the metrics of a batch.
 * Each consumer's entry file (user.ts, order.ts, payment.ts) is one line that names its spec.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { readEnvironment } from '../../core/env';
import type { KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { contractOfSchemaVersionId, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers } from '../../core/topology';
import { containerWriter, type HandlerOptions } from '../shared/kafka';
import { observability } from '../shared/observability';
import { processBatch } from './consumer';
import { batchMetrics } from './metrics';

/**
 * The Lambda handler of the consumer named `name` in core/topology.ts, writing with
 * `options.writer` (the container's producer unless a process running it passes another).
 */
export function consumerHandler(name: string, options: HandlerOptions = {}) {
  const found = consumers.find((c) => c.name === name);
  if (!found) throw new Error(`no consumer named "${name}" in core/topology.ts`);
  const spec: ConsumerSpec = found;
  const environment = readEnvironment();
  const { logger, metrics, tracing, serviceName, namespace } = observability(name);
  const writer = (options.writer ?? containerWriter)(environment.kafka, (level, message, details) =>
    logger[level](message, details),
  );
  const deps = {
    spec,
    writer,
    schemaVersionIds: schemaVersionIds(environment.schemaVersionIds),
    contractOf: contractOfSchemaVersionId(environment.schemaVersionIds),
    log: (level: 'warn' | 'error', message: string, details: Record<string, unknown>) =>
      logger[level](message, details),
  };

  const publish = batchMetrics(spec.sourceTopic, { serviceName, namespace });

  async function consume(event: MskEvent, context: Context): Promise<KafkaBatchResponse> {
    const { response, counts } = await processBatch(event, context, deps);
    publish(counts);
    metrics.addDimension('topic', spec.sourceTopic);
    metrics.addMetric(
      'BatchRecords',
      MetricUnit.Count,
      Object.values(event.records).reduce((n, r) => n + r.length, 0),
    );
    const totals = [...counts.values()].reduce(
      (t, c) => ({
        received: t.received + c.received,
        deadLettered: t.deadLettered + c.deadLettered,
        failed: t.failed + c.failed,
      }),
      { received: 0, deadLettered: 0, failed: 0 },
    );
    logger.info('batch processed', { ...totals, retried: response.batchItemFailures.length });
    return response;
  }

  return middy(consume).use(tracing).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
