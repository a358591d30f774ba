/**
 * The analytics API function: API Gateway (REST, Lambda proxy) `GET /analytics/daily?from=&to=` →
 * the daily aggregates of each day in the range (core/analytics-query.ts), read from the analytics
 * table (./reader.ts). Errors have the producer endpoint's shape (../producer/errors.ts): 400
 * `ValidationError` naming the query parameter, 405 for another method.
 * `handler` is what Lambda runs; `createHandler` lets tests and the local runtime give it a reader.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ANALYTICS_API_METRICS, parseRange } from '../../core/analytics-query';
import { jsonResponse, RequestRejected, toResponse } from '../producer/errors';
import { observability } from '../shared/observability';
import { type AnalyticsReader, readerFromEnvironment } from './reader';

const PARAMETERS = ['from', 'to'] as const;

/**
 * The answer to one request; `reader` is asked only for a valid range. A failure to read (500, its
 * details withheld from the client) is given to `onFailure`.
 */
export async function handleAnalyticsRequest(
  event: APIGatewayProxyEvent,
  reader: () => AnalyticsReader,
  onFailure: (error: unknown) => void = () => {},
): Promise<APIGatewayProxyResult> {
  const requestId = event.requestContext?.requestId ?? 'unknown';
  try {
    if (event.httpMethod !== 'GET') {
      throw new RequestRejected(
        405,
        'MethodNotAllowed',
        `${event.httpMethod} is not allowed here; use GET`,
        [],
        { allow: 'GET' },
      );
    }
    // API Gateway keeps the last value of a repeated parameter in queryStringParameters; a range
    // given twice is ambiguous, so it is refused rather than half-read.
    for (const name of PARAMETERS) {
      const values = event.multiValueQueryStringParameters?.[name] ?? [];
      if (values.length > 1) {
        throw new RequestRejected(400, 'ValidationError', `${name} is given ${values.length} times`, [
          { location: 'query', path: name, message: 'must be given once' },
        ]);
      }
    }
    const query = event.queryStringParameters ?? {};
    const range = parseRange(query.from, query.to);
    if (!range.ok) {
      throw new RequestRejected(400, 'ValidationError', range.problem.message, [
        { location: 'query', path: range.problem.path, message: range.problem.message },
      ]);
    }
    return jsonResponse(200, await reader().daily(range.days));
  } catch (error) {
    if (!(error instanceof RequestRejected)) onFailure(error);
    return toResponse(error, requestId);
  }
}

export interface AnalyticsApiOptions {
  /** The reader of the analytics table; by default the table of `ANALYTICS_TABLE`, made at first use. */
  readonly reader?: AnalyticsReader;
}

export function createHandler(options: AnalyticsApiOptions = {}) {
  const { logger, metrics, tracing } = observability('analytics-api');
  let reader = options.reader;
  // Made at the first request, so a missing ANALYTICS_TABLE fails that request with its name (500,
  // logged) rather than the module's import.
  const tableReader = () => {
    reader ??= readerFromEnvironment();
    return reader;
  };

  async function serve(event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> {
    logger.appendKeys({ correlationId: event.requestContext?.requestId });
    let failure: unknown;
    const response = await handleAnalyticsRequest(event, tableReader, (error) => {
      failure = error;
    });
    if (response.statusCode === 200) {
      metrics.addMetric(ANALYTICS_API_METRICS.served, MetricUnit.Count, 1);
    } else {
      metrics.addMetric(ANALYTICS_API_METRICS.rejected, MetricUnit.Count, 1);
      const level = response.statusCode >= 500 ? 'error' : 'info';
      logger[level]('request refused', {
        statusCode: response.statusCode,
        body: response.body.slice(0, 2000),
        ...(failure instanceof Error ? { error: failure } : {}),
      });
    }
    return response;
  }

  return middy(serve)
    .use(tracing)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createHandler();
