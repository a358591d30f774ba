/**
 * Powertools Logger, Metrics and (when enabled) Tracer, created once per container. Configuration
 * comes from the standard Powertools environment variables (POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_METRICS_DISABLED,
 * POWERTOOLS_TRACE_ENABLED), which the CDK stack and the local runtime set.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { DEFAULT_METRICS_NAMESPACE } from '../../core/metrics';
import loadTracer from './tracer.cjs';

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
 * Powertools Tracer's `captureLambdaHandler`, loaded only when POWERTOOLS_TRACE_ENABLED is `true`
 * (./tracer.cjs). Loading the Tracer loads the X-Ray SDK, about 55 ms of a cold start (BENCHMARKS.md);
 * the deployment turns it on with the `tracer` setting, and Lambda's active tracing records
 * invocations without it.
 */
export function tracing(serviceName: string): MiddlewareObj {
  // middy takes no middleware without a hook, hence the empty one.
  if (process.env.POWERTOOLS_TRACE_ENABLED !== 'true') return { before: () => {} };
  const { Tracer, captureLambdaHandler } = loadTracer();
  return captureLambdaHandler(new Tracer({ serviceName }));
}
