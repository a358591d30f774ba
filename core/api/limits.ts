/**
 * The producer endpoint's limits: one definition read by the function, the OpenAPI document and the
 * local API.
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
