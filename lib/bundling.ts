/**
 * The bundling of every CDK `NodejsFunction`, from the settings core/bundling.ts shares with the
 * bundle-size check and the local runtime's `--bundles` mode.
 */
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  BUNDLE_ALIASES,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  NODE_TARGET,
  tracerDefine,
} from '../core/bundling';

/** Bundling of a NodejsFunction with Powertools Tracer (the `tracer` setting) on or off. */
export function functionBundling(tracer: boolean): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: NODE_TARGET,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    externalModules: EXTERNAL_MODULES,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    define: tracerDefine(tracer),
    // BundlingOptions has no `alias`; esbuild's own flag carries it.
    esbuildArgs: Object.fromEntries(
      Object.entries(BUNDLE_ALIASES).map(([name, path]) => [`--alias:${name}`, path]),
    ),
    // Docker is never used: esbuild is a devDependency.
    forceDockerBundling: false,
  };
}
