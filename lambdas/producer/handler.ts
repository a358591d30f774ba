/**
 * Producer endpoint: API Gateway (REST, Lambda proxy) → validated, Glue-framed events on Kafka.
 * The logic is in ./producer.ts; this file wires the container's singletons and Powertools.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { readEnvironment } from '../shared/env';
import { sharedProducer } from '../shared/kafka';
import { observability } from '../shared/observability';
import { schemaVersionIds } from '../shared/records';
import { handleRequest } from './producer';

const environment = readEnvironment();
const { logger, metrics, tracer } = observability('producer');
const writer = sharedProducer(environment.kafka, {
  log: (level, message, details) => logger[level](message, details),
});
const ids = schemaVersionIds(environment.schemaVersionIds);

async function produce(event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> {
  logger.appendKeys({ correlationId: event.requestContext?.requestId });
  const response = await handleRequest(event, { writer, schemaVersionIds: ids });
  const stream = event.pathParameters?.stream ?? 'unknown';
  if (response.statusCode === 202) {
    const body = JSON.parse(response.body) as { results?: unknown[] };
    metrics.addDimension('stream', stream);
    metrics.addMetric('EventsAccepted', MetricUnit.Count, body.results?.length ?? 1);
  } else {
    metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
    const level = response.statusCode >= 500 ? 'error' : 'info';
    logger[level]('request refused', {
      statusCode: response.statusCode,
      stream,
      body: response.body.slice(0, 2000),
    });
  }
  return response;
}

export const handler = middy(produce)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
