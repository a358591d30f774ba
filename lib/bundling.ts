/**
 * How every function is bundled, in one place: the CDK `NodejsFunction`s use {@link functionBundling},
 * and the bundle-size check and the local runtime's `--bundles` mode build with {@link esbuildOptions}
 * derived from the same settings, so what is measured and run locally is what is deployed.
 *
 * ESM output (smaller and faster to load than CJS wrappers), minified, with source maps, for Node 24.
 * `@aws-sdk/*` stays external: the nodejs24.x runtime ships AWS SDK for JavaScript v3
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#nodejs-sdk-included).
 */

import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

export const NODE_TARGET = 'node24';
export const EXTERNAL_MODULES = ['@aws-sdk/*'];
/** ESM bundles of CommonJS dependencies (kafkajs) need `require`; the banner provides it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** Bundling of every NodejsFunction. */
export const functionBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target: NODE_TARGET,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: EXTERNAL_MODULES,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  // Docker is never used: esbuild is a devDependency.
  forceDockerBundling: false,
};

/** esbuild options equivalent to {@link functionBundling}, for building a function outside CDK. */
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
    ...Object.fromEntries(consumerEntries.map((c) => [c.name, c.entry])),
  };
}
