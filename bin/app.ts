#!/usr/bin/env node
/**
 * The CDK app. Configuration enters here only: CDK context and the environment, validated into a
 * typed config that the stacks receive. `npx cdk synth` needs no AWS credentials.
 */
import { App } from 'aws-cdk-lib';
import { TopologyError } from '../core/topology';
import { ConfigError, loadConfig } from '../lib/config';
import { addDeployment } from '../lib/stacks/app';
import { definitionHistory } from '../schemas/history';

const app = new App();
try {
  const config = loadConfig((key) => app.node.tryGetContext(key));
  addDeployment(app, config, { schemaHistory: definitionHistory });
} catch (error) {
  // A bad context value or topology is the user's to fix: say what is wrong, without a stack trace.
  if (error instanceof ConfigError || error instanceof TopologyError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
app.synth();
