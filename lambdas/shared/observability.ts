/**
 * Powertools Logger, Metrics and (when enabled) Tracer, created once per container. Configuration
 * comes from the standard Powertools environment variables (POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_METRICS_DISABLED,
 * POWERTOOLS_TRACE_ENABLED), which the CDK stack and the local runtime set.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

export const DEFAULT_METRICS_NAMESPACE = 'MskServerlessEvents';

export interface Observability {
  /** The service name and metrics namespace in effect. */
  readonly serviceName: string;
  readonly namespace: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Middy middleware of Powertools Tracer, or one that does nothing when tracing is off. */
  readonly tracing: MiddlewareObj;
}

/** Logger, metrics and tracing for the function `serviceName` (unless the environment names it). */
export function observability(serviceName: string): Observability {
  const service = process.env.POWERTOOLS_SERVICE_NAME ?? serviceName;
  const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE;
  return {
    serviceName: service,
    namespace,
    logger: new Logger({ serviceName: service }),
    metrics: new Metrics({ serviceName: service, namespace }),
    tracing: tracing(service),
  };
}

/**
 * Powertools Tracer's `captureLambdaHandler`, imported only when POWERTOOLS_TRACE_ENABLED is `true`.
 * Importing the Tracer loads the X-Ray SDK, about 55 ms of every cold start (BENCHMARKS.md); the
 * deployment turns it on with the `tracer` setting, and Lambda's active tracing records invocations
 * without it. When on, the import starts at once, during the init phase, not at the first event.
 */
export function tracing(serviceName: string): MiddlewareObj {
  // middy takes no middleware without a hook, hence the empty one.
  if (process.env.POWERTOOLS_TRACE_ENABLED !== 'true') return { before: () => {} };
  const loading = (async () => {
    const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]);
    return captureLambdaHandler(new Tracer({ serviceName }));
  })();
  // A failed import surfaces at the first invocation; it must not be an unhandled rejection before.
  loading.catch(() => {});
  return {
    before: async (request) => (await loading).before?.(request),
    after: async (request) => (await loading).after?.(request),
    onError: async (request) => (await loading).onError?.(request),
  };
}
