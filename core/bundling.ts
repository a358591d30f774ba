/**
 * How every function is bundled, in one place: the CDK `NodejsFunction`s (lib/bundling.ts) and the
 * bundle-size check and the local runtime's `--bundles` mode (local/bundle.ts) build with the same
 * settings, so what is measured and run locally is what is deployed; and every function's entry file.
 *
 * ESM output (smaller and faster to load than CJS wrappers), minified, with source maps, for Node 24.
 * `@aws-sdk/*` stays external: the nodejs24.x runtime ships AWS SDK for JavaScript v3
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#nodejs-sdk-included).
 */
import type { BuildOptions } from 'esbuild';
import { analytics } from './topology';

export const NODE_TARGET = 'node24';
export const EXTERNAL_MODULES = ['@aws-sdk/*'];
/** ESM bundles of CommonJS dependencies (kafkajs) need `require`; the banner provides it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** esbuild options equivalent to lib/bundling.ts's `functionBundling`, for building a function outside CDK. */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: EXTERNAL_MODULES,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    metafile: true,
    logLevel: 'silent',
  };
}

/** Every function's entry file, by function name. */
export function functionEntries(
  consumerEntries: readonly { name: string; entry: string }[],
): Record<string, string> {
  return {
    producer: 'lambdas/producer/handler.ts',
    'analytics-api': 'lambdas/analytics/api.ts',
    ...Object.fromEntries(consumerEntries.map((c) => [c.name, c.entry])),
    [analytics.name]: analytics.entry,
  };
}
