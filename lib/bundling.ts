/**
 * The bundling of every CDK `NodejsFunction`, from the settings core/bundling.ts shares with the
 * bundle-size check and the local runtime's `--bundles` mode.
 */
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ESM_REQUIRE_BANNER, EXTERNAL_MODULES, NODE_TARGET } from '../core/bundling';

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
