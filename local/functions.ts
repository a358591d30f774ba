/**
 * Loads the functions for the local runtime: the TypeScript sources (default), or with `bundles`
 * the esbuild bundles built exactly as CDK deploys them (lib/bundling.ts), which catches packaging
 * mistakes before a deploy. The environment the handlers read at load is set first, as Lambda sets it.
 * With `writer`, each function is built by its entry's `createHandler` with that writer (the local
 * runtime passes ./coalescing-writer.ts); an entry without `createHandler` runs its `handler`.
 */

import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { functionEntries } from '../core/bundling';
import { kafkaEnvironment } from '../core/env';
import type { KafkaWriter } from '../core/kafka-records';
import { analytics, consumers } from '../core/topology';
import { containerWriter, type HandlerOptions, type WriterFactory } from '../lambdas/shared/kafka';
import { bundleAll } from './bundle';
import type { AsyncHandler } from './lambda';

export interface LoadedFunctions {
  readonly producer: AsyncHandler;
  /** The analytics API function (lambdas/analytics/api.ts). */
  readonly analyticsApi: AsyncHandler;
  readonly consumers: ReadonlyMap<string, AsyncHandler>;
  /** The analytics function (core/topology.ts `analytics`), fed by one mapping per source topic. */
  readonly analytics: AsyncHandler;
  /** Where the code came from: `sources` or the bundle directory. */
  readonly origin: string;
}

/** The environment every local function gets, as the CDK stack sets it in AWS. */
export function functionEnvironment(
  brokers: string,
  schemaVersionIds?: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    ...kafkaEnvironment({
      brokers,
      auth: 'plaintext',
      schemaVersionIds: schemaVersionIds ? JSON.stringify(schemaVersionIds) : undefined,
    }),
    // Metrics are served by the runtime at /metrics; EMF lines would only clutter the console.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  };
}

export interface LoadOptions {
  readonly bundles?: boolean;
  readonly schemaVersionIds?: Readonly<Record<string, string>>;
  /**
   * Wraps each consumer's writer of derived events and dead letters, e.g. to make writes fail in the
   * resilience tests. The consumers are then built from their sources with this dependency
   * (`consumerHandler` in lambdas/consumers/handler.ts, which every consumer entry file calls), so
   * the deployed code carries no hook for it; a bundle exports only its handler, hence no `bundles`.
   */
  readonly wrapConsumerWriter?: (writer: KafkaWriter, consumer: string) => KafkaWriter;
  /** The writer each function gets instead of its own producer (the local runtime's coalescing writers). */
  readonly writer?: WriterFactory;
  /** More environment for the functions, e.g. the analytics table (`ANALYTICS_TABLE`, `DYNAMODB_ENDPOINT`). */
  readonly environment?: Readonly<Record<string, string>>;
}

export async function loadFunctions(brokers: string, options: LoadOptions = {}): Promise<LoadedFunctions> {
  const wrap = options.wrapConsumerWriter;
  if (wrap && options.bundles) {
    throw new Error(
      'wrapConsumerWriter cannot be used with bundles: a bundle exports only its handler, as deployed; load the sources instead',
    );
  }
  Object.assign(process.env, functionEnvironment(brokers, options.schemaVersionIds), options.environment);
  const entries = functionEntries(consumers);
  let files: Record<string, string>;
  let origin = 'sources';
  if (options.bundles) {
    const dir = join('.cache', 'bundles');
    const reports = await bundleAll(dir);
    files = Object.fromEntries(reports.map((r) => [r.name, resolve(r.file)]));
    origin = resolve(dir);
  } else {
    files = Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, resolve(entry)]));
  }
  const load = async (name: string): Promise<AsyncHandler> => {
    const file = files[name];
    if (!file) throw new Error(`no code for function ${name}`);
    const module = (await import(pathToFileURL(file).href)) as {
      handler?: AsyncHandler;
      createHandler?: (options: HandlerOptions) => AsyncHandler;
    };
    const base = options.writer;
    const writer: WriterFactory | undefined =
      wrap && name !== 'producer'
        ? (settings, log) => wrap((base ?? containerWriter)(settings, log), name)
        : base;
    if (writer && typeof module.createHandler === 'function') return module.createHandler({ writer });
    if (typeof module.handler !== 'function') throw new Error(`${file} does not export a handler function`);
    return module.handler;
  };
  const loaded = new Map<string, AsyncHandler>();
  for (const c of consumers) loaded.set(c.name, await load(c.name));
  return {
    producer: await load('producer'),
    consumers: loaded,
    analytics: await load(analytics.name),
    analyticsApi: await load('analytics-api'),
    origin,
  };
}
