/**
 * How `npm run ops` finds a deployed cluster (ops/discover.ts): the stage's stack output, then Kafka
 * GetBootstrapBrokers. AWS is stood in for by test/support/fake-msk.ts (the real Kafka SDK client
 * with its HTTP handler replaced; moto has no GetBootstrapBrokers), so these check what is asked and
 * what is made of the answers, not AWS itself.
 */
import { App, CfnOutput } from 'aws-cdk-lib';
import { CfnCluster } from 'aws-cdk-lib/aws-msk';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { addDeployment } from '../../lib/stacks/app';
import { OpsError, UsageError } from '../../ops/clients';
import {
  CLUSTER_ARN_OUTPUT,
  kafkaStackName,
  opsTarget,
  resolveSettings,
  targetEnvironment,
} from '../../ops/discover';
import { main } from '../../ops/ops';
import { bootstrapAnswer, fakeAws, notFoundAnswer } from '../support/fake-msk';

const ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/dev-events/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2';
const IAM_BROKERS =
  'b-1.devevents.abc123.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.devevents.abc123.c2.kafka.eu-west-1.amazonaws.com:9098';
const PLAIN_BROKERS = 'b-1.devevents.abc123.c2.kafka.eu-west-1.amazonaws.com:9092';
const ENV = { AWS_REGION: 'eu-west-1' };

/** The message of what `fn` throws, checked to be of `type`. */
async function failure(fn: () => unknown, type: typeof OpsError = OpsError): Promise<string> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return (error as Error).message;
  }
  throw new Error('expected a failure');
}

describe('the platform stack as ops reads it', () => {
  // Built, not synthesized: the name and the output are read from the constructs.
  it('is named <stage>-kafka and has the cluster ARN in the output ops reads', { timeout: 60_000 }, () => {
    const app = new App({ context: { stage: 'prod', 'aws:cdk:bundling-stacks': [] } });
    const config = loadConfig((k) => app.node.tryGetContext(k), {});
    const { platform } = addDeployment(app, config, { nag: false });
    expect(platform.stackName).toBe(kafkaStackName('prod'));
    const outputs = platform.node.findAll().filter((c): c is CfnOutput => c instanceof CfnOutput);
    const arn = outputs.find((o) => platform.getLogicalId(o) === CLUSTER_ARN_OUTPUT);
    expect(arn, `outputs: ${outputs.map((o) => platform.getLogicalId(o)).join(', ')}`).toBeDefined();
    const cluster = platform.node.findAll().find((c): c is CfnCluster => c instanceof CfnCluster);
    expect(cluster).toBeDefined();
    expect(platform.resolve(arn?.value)).toEqual(platform.resolve(cluster?.attrArn));
  });
});

describe('opsTarget', () => {
  it('leaves KAFKA_BROKERS as given (an override), and the local broker without stage or cluster', () => {
    expect(opsTarget({ stage: 'dev' }, { ...ENV, KAFKA_BROKERS: 'kafka:9092' })).toEqual({ kind: 'brokers' });
    expect(opsTarget({}, {})).toEqual({ kind: 'brokers' });
  });

  it('takes --stage or OPS_STAGE, IAM unless KAFKA_AUTH says plaintext', () => {
    expect(opsTarget({ stage: 'dev' }, ENV)).toEqual({
      kind: 'stage',
      stage: 'dev',
      region: 'eu-west-1',
      auth: 'iam',
    });
    expect(opsTarget({}, { ...ENV, OPS_STAGE: 'prod', KAFKA_AUTH: 'plaintext' })).toMatchObject({
      stage: 'prod',
      auth: 'plaintext',
    });
    expect(opsTarget({}, { OPS_CLUSTER_ARN: ARN })).toEqual({
      kind: 'cluster',
      clusterArn: ARN,
      auth: 'iam',
    });
  });

  it('refuses what it cannot use, naming it', async () => {
    expect(await failure(() => opsTarget({ stage: 'dev' }, {}), UsageError)).toBe(
      '--stage dev needs AWS_REGION: the region the stack dev-kafka is deployed in',
    );
    expect(await failure(() => opsTarget({ stage: 'Dev_1' }, ENV), UsageError)).toMatch(
      /^--stage "Dev_1" is not a stage name/,
    );
    expect(
      await failure(
        () => opsTarget({ clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:topic/x' }, ENV),
        UsageError,
      ),
    ).toMatch(/is not an MSK cluster ARN/);
    expect(await failure(() => opsTarget({ stage: 'dev', clusterArn: ARN }, ENV), UsageError)).toMatch(
      /not both/,
    );
    expect(
      await failure(() => opsTarget({ stage: 'dev' }, { ...ENV, KAFKA_AUTH: 'scram' }), UsageError),
    ).toMatch(/KAFKA_AUTH must be "iam" or "plaintext"/);
  });

  it('makes re-drive read the schema ids as on MSK when the cluster is discovered', () => {
    expect(targetEnvironment(opsTarget({ stage: 'dev' }, ENV), ENV).KAFKA_AUTH).toBe('iam');
    expect(targetEnvironment({ kind: 'brokers' }, ENV).KAFKA_AUTH).toBeUndefined();
  });
});

describe('resolveSettings', () => {
  it('finds the stage’s cluster in its stack output and takes the IAM listener of GetBootstrapBrokers', async () => {
    const aws = fakeAws(
      bootstrapAnswer({ bootstrapBrokerString: PLAIN_BROKERS, bootstrapBrokerStringSaslIam: IAM_BROKERS }),
      { 'dev-kafka': [{ OutputKey: CLUSTER_ARN_OUTPUT, OutputValue: ARN }] },
    );
    const settings = await resolveSettings(opsTarget({ stage: 'dev' }, ENV), ENV, aws);
    expect(aws.stacksAsked).toEqual([{ stackName: 'dev-kafka', region: 'eu-west-1' }]);
    expect(aws.requests).toEqual([
      {
        method: 'GET',
        hostname: 'kafka.eu-west-1.amazonaws.com',
        path: `/v1/clusters/${encodeURIComponent(ARN)}/bootstrap-brokers`,
        region: 'eu-west-1',
      },
    ]);
    expect(settings).toMatchObject({ brokers: IAM_BROKERS.split(','), auth: 'iam', region: 'eu-west-1' });
  });

  it('asks the cluster’s own region for a cluster ARN, and the plaintext listener with KAFKA_AUTH=plaintext', async () => {
    const aws = fakeAws(bootstrapAnswer({ bootstrapBrokerString: PLAIN_BROKERS }));
    const env = { AWS_REGION: 'us-east-1', KAFKA_AUTH: 'plaintext' };
    const settings = await resolveSettings(opsTarget({ clusterArn: ARN }, env), env, aws);
    expect(aws.requests.map((r) => r.region)).toEqual(['eu-west-1']);
    expect(aws.stacksAsked).toEqual([]);
    expect(settings).toMatchObject({ brokers: [PLAIN_BROKERS], auth: 'plaintext' });
  });

  it('asks nothing of AWS when KAFKA_BROKERS is set', async () => {
    const aws = fakeAws(notFoundAnswer('must not be asked'));
    const env = { ...ENV, KAFKA_BROKERS: '10.0.0.1:9092' };
    const settings = await resolveSettings(opsTarget({ stage: 'dev' }, env), env, aws);
    expect(aws.requests).toEqual([]);
    expect(aws.stacksAsked).toEqual([]);
    expect(settings.brokers).toEqual(['10.0.0.1:9092']);
  });

  it('says so when the stack, its output or the IAM listener is missing, or the cluster is unknown', async () => {
    const iam = bootstrapAnswer({ bootstrapBrokerStringSaslIam: IAM_BROKERS });
    const dev = opsTarget({ stage: 'dev' }, ENV);

    expect(await failure(() => resolveSettings(dev, ENV, fakeAws(iam)))).toBe(
      'no stack dev-kafka in eu-west-1: deploy stage dev (npm run deploy -- -c stage=dev) or set AWS_REGION to the region it is in',
    );
    expect(
      await failure(() =>
        resolveSettings(dev, ENV, fakeAws(iam, { 'dev-kafka': [{ OutputKey: 'Other', OutputValue: 'x' }] })),
      ),
    ).toBe(
      'the stack dev-kafka in eu-west-1 has no output ClusterArn (its outputs: Other); is it still being created?',
    );
    const denied = Object.assign(
      new Error('User is not authorized to perform: cloudformation:DescribeStacks'),
      {
        name: 'AccessDenied',
      },
    );
    expect(await failure(() => resolveSettings(dev, ENV, fakeAws(iam, {}, denied)))).toBe(
      'cannot read the stack dev-kafka in eu-west-1 (CloudFormation DescribeStacks): AccessDenied: User is not authorized to perform: cloudformation:DescribeStacks',
    );

    const stack = { 'dev-kafka': [{ OutputKey: CLUSTER_ARN_OUTPUT, OutputValue: ARN }] };
    expect(
      await failure(() =>
        resolveSettings(dev, ENV, fakeAws(bootstrapAnswer({ bootstrapBrokerStringTls: IAM_BROKERS }), stack)),
      ),
    ).toBe(
      `the cluster ${ARN} has no IAM listener: GetBootstrapBrokers returned no BootstrapBrokerStringSaslIam (only BootstrapBrokerStringTls); its client authentication must enable IAM, or set KAFKA_AUTH=plaintext for an unauthenticated cluster`,
    );
    expect(
      await failure(() =>
        resolveSettings(dev, ENV, fakeAws(notFoundAnswer(`Cluster ${ARN} doesn't exist.`), stack)),
      ),
    ).toBe(`no MSK cluster ${ARN} (Kafka GetBootstrapBrokers: Cluster ${ARN} doesn't exist.)`);
  });
});

describe('npm run ops with --stage', () => {
  it('reports a missing stack as a failed operation (status 1) before connecting to anything', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const aws = fakeAws(bootstrapAnswer({ bootstrapBrokerStringSaslIam: IAM_BROKERS }));
    const status = await main(['--stage', 'dev', 'lag'], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      env: ENV,
      aws,
    });
    expect({ status, out, err }).toEqual({
      status: 1,
      out: [],
      err: [
        'ops: no stack dev-kafka in eu-west-1: deploy stage dev (npm run deploy -- -c stage=dev) or set AWS_REGION to the region it is in',
      ],
    });
    expect(aws.requests).toEqual([]);
  });

  it('checks the command line before asking AWS', async () => {
    const err: string[] = [];
    const aws = fakeAws(bootstrapAnswer({}));
    const status = await main(['--stage', 'dev', 'tail'], {
      out: () => {},
      err: (t) => err.push(t),
      env: ENV,
      aws,
    });
    expect(status).toBe(2);
    expect(err[0]).toMatch(/^ops: tail needs a topic/);
    expect(aws.stacksAsked).toEqual([]);
  });
});
