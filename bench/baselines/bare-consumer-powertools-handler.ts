/**
 * Cold-start floor of the consumers with the observability they must keep: the bare kafkajs consumer
 * handler (./bare-consumer-handler.ts) inside middy with Powertools Logger and Metrics, as the
 * functions use them (the logger's Lambda context, one log line and one EMF metric per invocation).
 * No validation, no MSK decoding, no dead letters. What this adds to the bare handler is the part of a
 * function's cold start that only dropping Powertools would remove. Bundled with the same settings as
 * the functions. Not deployed.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { handler as bare } from './bare-consumer-handler';

const logger = new Logger({ serviceName: 'bare-consumer-powertools' });
const metrics = new Metrics({ serviceName: 'bare-consumer-powertools', namespace: 'MskServerlessEvents' });

export const handler = middy(async (event: Parameters<typeof bare>[0]) => {
  const response = await bare(event);
  metrics.addMetric('EventsProcessed', MetricUnit.Count, Object.values(event.records).flat().length);
  logger.info('batch processed');
  return response;
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
