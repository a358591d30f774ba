/**
 * Producer endpoint: API Gateway (REST, Lambda proxy) → validated, Glue-framed events on Kafka.
 * The logic is in ./producer.ts; this file wires the container's singletons and Powertools.
 * `handler` is what Lambda runs; `createHandler` lets a process that runs the function itself (the
 * local runtime, benchmarks) give it another writer.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { readEnvironment } from '../../core/env';
import { PRODUCER_METRICS } from '../../core/metrics';
import { schemaVersionIds } from '../../core/records';
import { containerWriter, type HandlerOptions } from '../shared/kafka';
import { observability } from '../shared/observability';
import { handleRequest } from './producer';

export function createHandler(options: HandlerOptions = {}) {
  const environment = readEnvironment();
  const { logger, metrics, tracing } = observability('producer');
  const writer = (options.writer ?? containerWriter)(environment.kafka, (level, message, details) =>
    logger[level](message, details),
  );
  const ids = schemaVersionIds(environment.schemaVersionIds);

  async function produce(event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> {
    logger.appendKeys({ correlationId: event.requestContext?.requestId });
    let accepted = 0;
    const response = await handleRequest(event, {
      writer,
      schemaVersionIds: ids,
      onAccepted: (count) => {
        accepted = count;
      },
    });
    const stream = event.pathParameters?.stream ?? 'unknown';
    if (response.statusCode === 202) {
      metrics.addDimension('stream', stream);
      metrics.addMetric(PRODUCER_METRICS.accepted, MetricUnit.Count, accepted);
    } else {
      metrics.addMetric(PRODUCER_METRICS.rejected, MetricUnit.Count, 1);
      const level = response.statusCode >= 500 ? 'error' : 'info';
      logger[level]('request refused', {
        statusCode: response.statusCode,
        stream,
        body: response.body.slice(0, 2000),
      });
    }
    return response;
  }

  return middy(produce)
    .use(tracing)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createHandler();
