/**
 * The producer endpoint's contract beyond the event schemas: its limits and the envelope fields it
 * fills in. One definition read by the function (lambdas/producer/producer.ts), the OpenAPI document
 * (./openapi.ts) and the local API.
 */

/** Most events in one batch request. */
export const MAX_BATCH_EVENTS = 500;
/**
 * Largest request body. Lambda's synchronous invocation payload is capped at 6 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) and API Gateway's at 10 MB
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html); 5 MiB leaves room for
 * the rest of the proxy event.
 */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Envelope fields the endpoint fills in when a request leaves them out. */
export const FILLED_BY_ENDPOINT = ['eventId', 'occurredAt', 'correlationId', 'schemaVersion'] as const;
export type FilledByEndpoint = (typeof FILLED_BY_ENDPOINT)[number];

/**
 * `item` with each of {@link FILLED_BY_ENDPOINT} it leaves out filled from `defaults`. Only absent
 * fields are filled; an explicit null is the client's value (and fails validation).
 */
export function fillEndpointFields<T extends Record<string, unknown>>(
  item: T,
  defaults: { readonly [K in FilledByEndpoint]: () => unknown },
): T & Record<FilledByEndpoint, unknown> {
  const event: Record<string, unknown> = { ...item };
  for (const field of FILLED_BY_ENDPOINT) if (event[field] === undefined) event[field] = defaults[field]();
  return event as T & Record<FilledByEndpoint, unknown>;
}
