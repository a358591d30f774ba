/**
 * The deployment shapes the template tests synthesize (cdk-nag, cfn-lint, the IAM reference check):
 * each turns different resources on. Bundling is skipped: the templates are what is checked.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config';
import { addDeployment } from '../../lib/stacks/app';

const flags = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** Context of each shape, by a name that says what it turns on. */
export const DEPLOYMENT_VARIANTS: Readonly<Record<string, Record<string, unknown>>> = {
  'dev, as configured by default': {},
  'prod, alarms mailed to a new topic': { stage: 'prod', alarmEmail: 'ops@example.com' },
  'API key auth, Express brokers, a NAT gateway instead of endpoints': {
    apiAuth: 'apiKey',
    brokerType: 'express',
    natGateways: '1',
    interfaceEndpoints: 'false',
  },
  'Cognito auth, an existing alarm topic, the account’s own API Gateway log role': {
    stage: 'prod',
    apiAuth: 'cognito',
    cognitoUserPoolArn: 'arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbCdEf123',
    alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:ops-alarms',
    apiCloudWatchRole: 'false',
  },
  'the LocalStack target (plaintext cluster, topics custom resource, reduced mappings)': {
    target: 'localstack',
  },
};

/** The app of the deployment `context` configures, synthesized (into `outdir` if given). */
export function synthesizedApp(
  context: Record<string, unknown>,
  options: { readonly nag?: boolean; readonly outdir?: string } = {},
): App {
  const app = new App({
    outdir: options.outdir,
    builtinCloudFormationValidation: false,
    context: { ...flags, 'aws:cdk:bundling-stacks': [], ...context },
  });
  addDeployment(
    app,
    loadConfig((k) => app.node.tryGetContext(k), {}),
    { nag: options.nag ?? false },
  );
  app.synth();
  return app;
}
