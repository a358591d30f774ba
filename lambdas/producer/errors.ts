/**
 * What the producer endpoint answers, decided in one place: every rejection is a typed error with its
 * HTTP status, and {@link toResponse} turns any error into a JSON response without internals.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';

/**
 * One problem with a request: where it is (`body` JSON Pointer, `path` parameter, `query` parameter,
 * `header`) and what.
 */
export interface RequestIssue {
  readonly location: 'body' | 'path' | 'query' | 'header';
  readonly path: string;
  readonly message: string;
}

/** A request the endpoint refuses; nothing was written to Kafka. */
export class RequestRejected extends Error {
  override readonly name = 'RequestRejected';
  constructor(
    readonly status: 400 | 404 | 405 | 413 | 415,
    readonly code: string,
    message: string,
    readonly issues: readonly RequestIssue[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Kafka is unreachable or too slow: the client should retry after a while. */
export class ServiceUnavailable extends Error {
  override readonly name = 'ServiceUnavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The response for any error: the rejection's status, 503 for Kafka, else a 500 that reveals nothing. */
export function toResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  if (error instanceof RequestRejected) {
    return jsonResponse(
      error.status,
      { error: error.code, message: error.message, issues: error.issues, requestId },
      error.headers,
    );
  }
  if (error instanceof ServiceUnavailable) {
    return jsonResponse(
      503,
      { error: 'ServiceUnavailable', message: error.message, requestId },
      { 'retry-after': String(error.retryAfterSeconds) },
    );
  }
  return jsonResponse(500, {
    error: 'InternalError',
    message: 'The request could not be processed.',
    requestId,
  });
}
