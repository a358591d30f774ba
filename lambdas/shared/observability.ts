/**
 * Powertools Logger, Metrics and Tracer, created once per container. Configuration comes from the
 * standard Powertools environment variables (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL,
 * POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_METRICS_DISABLED, POWERTOOLS_TRACE_ENABLED), which the
 * CDK stack and the local runtime set.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const DEFAULT_METRICS_NAMESPACE = 'MskServerlessEvents';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/** Logger, metrics and tracer for the function `serviceName` (unless the environment names it). */
export function observability(serviceName: string): Observability {
  const service = process.env.POWERTOOLS_SERVICE_NAME ?? serviceName;
  return {
    logger: new Logger({ serviceName: service }),
    metrics: new Metrics({
      serviceName: service,
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
    }),
    tracer: new Tracer({ serviceName: service }),
  };
}
