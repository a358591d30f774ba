/**
 * How every function is bundled, in one place: the CDK `NodejsFunction`s (lib/bundling.ts) and the
 * bundle-size check and the local runtime's `--bundles` mode (local/bundle.ts) build with the same
 * settings, so what is measured and run locally is what is deployed; and every function's entry file.
 *
 * ESM output (smaller and faster to load than CJS wrappers), minified, with source maps, for Node 24.
 * `@aws-sdk/*` stays external: the nodejs24.x runtime ships AWS SDK for JavaScript v3
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#nodejs-sdk-included).
 *
 * The `tracer` setting is known when a function is built, so it is a build input: a build with the
 * Tracer off holds no Powertools Tracer, X-Ray SDK or semver (about 100 KB minified, 30 KB gzipped);
 * see {@link TRACER_BUNDLED}.
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { analytics } from './topology';

export const NODE_TARGET = 'node24';
export const EXTERNAL_MODULES = ['@aws-sdk/*'];
/** ESM bundles of CommonJS dependencies (kafkajs) need `require`; the banner provides it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * The global lambdas/shared/tracer.cjs tests: `false` in a build with the Tracer off, whose dead
 * branch (the Tracer's `require`) esbuild then drops; absent when the sources run unbundled.
 */
const TRACER_BUNDLED = '__TRACER_BUNDLED__';

/** esbuild `define` of a build with the Tracer on or off. */
export function tracerDefine(tracer: boolean): Record<string, string> {
  return { [TRACER_BUNDLED]: String(tracer) };
}

/**
 * Packages the bundles replace: `@aws-crypto/sha256-js` (a pure-JavaScript SHA-256 with its own tslib,
 * which MSK IAM's token signer hands to SigV4) by lambdas/shared/sha256.ts, the same interface on
 * Node's crypto: 4 KB less of every gzipped bundle. Absolute paths: esbuild resolves an alias in its
 * working directory.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-crypto/sha256-js': fileURLToPath(new URL('../lambdas/shared/sha256.ts', import.meta.url)),
};

export interface FunctionBuild {
  /** Whether the function may load Powertools Tracer (the `tracer` setting). @default false */
  readonly tracer?: boolean;
}

/** esbuild options equivalent to lib/bundling.ts's `functionBundling`, for building a function outside CDK. */
export function esbuildOptions(entry: string, outfile: string, build: FunctionBuild = {}): BuildOptions {
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
    define: tracerDefine(build.tracer ?? false),
    alias: { ...BUNDLE_ALIASES },
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
