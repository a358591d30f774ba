#!/usr/bin/env node
/**
 * The CDK app. Configuration enters here only: CDK context and the environment, validated into a
 * typed config that the stacks receive. `npx cdk synth` needs no AWS credentials.
 */
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lib/config';
import { ContractsStack } from '../lib/stacks/contracts-stack';

const app = new App();
const config = loadConfig((key) => app.node.tryGetContext(key));

new ContractsStack(app, `${config.stage}-contracts`, {
  config,
  env: config.env,
  description: 'Event contracts (AWS Glue Schema Registry) of the MSK event-processing system.',
});

app.synth();
