/**
 * The CDK app as a user meets it: the configuration it reads from context (defaults per stage, every
 * bad value refused with the key it came from), and `cdk synth` itself, with no AWS credentials.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { analytics, consumers } from '../../core/topology';
import { CONTEXT_KEYS, ConfigError, loadConfig, PROFILE_DEFAULTS } from '../../lib/config';
import { contractSchemas } from '../../schemas/index';

const run = promisify(execFile);

/** loadConfig over a plain context object and an empty environment. */
const configOf = (context: Record<string, unknown>, environment: NodeJS.ProcessEnv = {}) =>
  loadConfig((k) => context[k], environment);

/** The problems loadConfig reports for `context`. */
function problemsOf(context: Record<string, unknown>): readonly string[] {
  try {
    configOf(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(context)} to be refused`);
}

/**
 * No AWS credentials, whatever the machine has. A region outside us-east-1: without one the CDK CLI
 * falls back to us-east-1, where the zones must be pinned (lib/config.ts refuses unpinned ones there).
 */
const noCredentials = {
  ...process.env,
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
};

describe('deployment configuration', () => {
  it('lists every bad context key, naming the key and the value', () => {
    expect(problemsOf({ stage: 'Prod!', destroyOnRemoval: 'maybe' })).toEqual([
      'stage "Prod!" must be 2–21 lowercase letters, digits or dashes, starting with a letter',
      'unknown stage "Prod!": use dev or prod, or name the defaults a custom stage takes with -c profile=dev|prod',
      'destroyOnRemoval must be true or false, not "maybe"',
    ]);
    expect(problemsOf({ registryName: 'events registry' })).toEqual([
      'registryName "events registry" is not a valid Glue registry name',
    ]);
  });

  it('refuses an unknown stage unless it names its profile', () => {
    expect(problemsOf({ stage: 'qa' })).toEqual([
      'unknown stage "qa": use dev or prod, or name the defaults a custom stage takes with -c profile=dev|prod',
    ]);
    const qa = configOf({ stage: 'qa', profile: 'prod' });
    expect(qa).toMatchObject({ stage: 'qa', profile: 'prod', registryName: 'qa-events' });
    expect(problemsOf({ stage: 'qa', profile: 'staging' })).toEqual([
      'profile must be one of dev, prod, not "staging"',
    ]);
  });

  it('refuses more minimum pollers than maximum, and pollers outside Lambda’s bounds', () => {
    expect(problemsOf({ minPollers: '4', maxPollers: '2' })).toEqual([
      'minPollers (4) must not exceed maxPollers (2)',
    ]);
    expect(problemsOf({ minPollers: '0' })).toEqual(['minPollers must be an integer from 1 to 200, not "0"']);
    expect(problemsOf({ maxPollers: '2001' })).toEqual([
      'maxPollers must be an integer from 1 to 2000, not "2001"',
    ]);
  });

  it('refuses settings the deployment could not honour', () => {
    expect(problemsOf({ kafkaVersion: '3.5.1' })).toEqual([
      'kafkaVersion "3.5.1" must be an MSK version string of Apache Kafka 3.6 or later (AWS::MSK::Topic needs it), e.g. 3.8.x',
    ]);
    expect(problemsOf({ brokerType: 'express', brokerInstanceType: 'kafka.m7g.large' })).toEqual([
      'brokerInstanceType "kafka.m7g.large" is not an express.* instance type for express brokers',
    ]);
    expect(problemsOf({ apiAuth: 'cognito' })).toEqual([
      'apiAuth=cognito needs cognitoUserPoolArn, the user pool whose tokens the API accepts',
    ]);
    expect(problemsOf({ logRetentionDays: '10' })[0]).toMatch(
      /^logRetentionDays must be one of 1, 3, 5, 7, 14/,
    );
    expect(problemsOf({ availabilityZones: 'eu-west-1a,eu-west-1b' })).toEqual([
      'availabilityZones must name three different zones, not "eu-west-1a,eu-west-1b"',
    ]);
    expect(
      problemsOf({ alarmEmail: 'ops@example.com', alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:ops' }),
    ).toEqual(['give alarmEmail (a new topic) or alarmTopicArn (an existing one), not both']);
  });

  it('takes account and region from the environment CDK sets', () => {
    const config = configOf({}, { CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'eu-west-1' });
    expect(config.env).toEqual({ account: '111122223333', region: 'eu-west-1' });
  });

  it('gives dev small, cheap defaults and prod production ones', () => {
    const dev = configOf({});
    const prod = configOf({ stage: 'prod' });
    expect(dev).toMatchObject({
      stage: 'dev',
      profile: 'dev',
      registryName: 'dev-events',
      destroyOnRemoval: true,
      terminationProtection: false,
      network: {
        natGateways: 0,
        interfaceEndpoints: false,
        availabilityZones: undefined,
        availabilityZoneIds: undefined,
      },
      kafka: { version: '3.8.x', brokerType: 'standard', instanceType: 'kafka.t3.small', brokersPerAz: 1 },
      consumers: { pollers: { minimum: 1, maximum: 1 } },
      api: {
        auth: 'iam',
        throttleRateLimit: 10,
        throttleBurstLimit: 20,
        manageCloudWatchRole: true,
        producerReservedConcurrency: 10,
      },
      observability: { metricsNamespace: 'MskServerlessEvents', logRetentionDays: 7 },
    });
    expect(prod).toMatchObject({
      profile: 'prod',
      destroyOnRemoval: false,
      terminationProtection: true,
      api: { producerReservedConcurrency: 100 },
      kafka: { instanceType: 'kafka.m7g.large', enhancedMonitoring: 'PER_TOPIC_PER_PARTITION' },
      // prod runs the topology's own poller settings.
      consumers: { pollers: undefined },
      observability: { logRetentionDays: 90, logLevel: 'INFO' },
    });
    expect(configOf({ stage: 'prod', brokerType: 'express' }).kafka.instanceType).toBe(
      PROFILE_DEFAULTS.prod.expressInstanceType,
    );
  });

  it('is documented key by key in docs/deploy.md ("Configuration")', async () => {
    const doc = await readFile(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    for (const key of CONTEXT_KEYS) expect(doc, `docs/deploy.md documents ${key}`).toContain(`\`${key}\``);
  });
});

describe('the cdk CLI', () => {
  it('synthesizes both stacks of dev with bundled functions, with no AWS credentials', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cdk-out-'));
    try {
      const started = Date.now();
      await run('npx', ['cdk', 'synth', '--quiet', '--output', out], { env: noCredentials });
      expect(Date.now() - started).toBeLessThan(60_000);

      const events = JSON.parse(await readFile(join(out, 'dev-events.template.json'), 'utf8'));
      const kafka = JSON.parse(await readFile(join(out, 'dev-kafka.template.json'), 'utf8'));
      const ofType = (t: { Resources: Record<string, { Type: string }> }, type: string) =>
        Object.values(t.Resources).filter((r) => r.Type === type);
      expect(ofType(events, 'AWS::Glue::Schema')).toHaveLength(Object.keys(contractSchemas).length);
      expect(ofType(events, 'AWS::Lambda::EventSourceMapping')).toHaveLength(
        consumers.length + analytics.sources.length,
      );
      expect(ofType(kafka, 'AWS::MSK::Cluster')).toHaveLength(1);

      // Each function's asset is a minified bundle with a source map of the sources it imports only.
      const assets = (await readdir(out)).filter((f) => f.startsWith('asset.'));
      const maps: string[] = [];
      for (const asset of assets) {
        const files = await readdir(join(out, asset));
        for (const file of files) if (file.endsWith('.map')) maps.push(join(out, asset, file));
      }
      // The consumers, the producer, the analytics consumer and the analytics API.
      expect(maps).toHaveLength(consumers.length + 3);
      for (const mapPath of maps) {
        const map = JSON.parse(await readFile(mapPath, 'utf8')) as {
          sources: string[];
          sourcesContent?: unknown;
        };
        expect(map.sourcesContent).toBeUndefined();
        expect(map.sources.some((s) => s.includes('lambdas/'))).toBe(true);
        expect(map.sources.filter((s) => /aws-cdk-lib|\/test\/|vitest|\/local\//.test(s))).toEqual([]);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('synthesizes prod through bin/app.ts, and refuses an unknown stage with a one-line reason', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cdk-out-'));
    try {
      const flags = JSON.parse(await readFile(new URL('../../cdk.json', import.meta.url), 'utf8')).context;
      const env = (context: Record<string, unknown>) => ({
        ...noCredentials,
        CDK_OUTDIR: out,
        // What the CLI passes the app; no bundling: this test is about the prod configuration.
        CDK_CONTEXT_JSON: JSON.stringify({ ...flags, 'aws:cdk:bundling-stacks': [], ...context }),
      });
      await run('npx', ['tsx', 'bin/app.ts'], { env: env({ stage: 'prod' }) });
      const events = JSON.parse(await readFile(join(out, 'prod-events.template.json'), 'utf8'));
      expect(JSON.stringify(events)).toContain('"FunctionName":"prod-producer"');

      const failure = await run('npx', ['tsx', 'bin/app.ts'], { env: env({ stage: 'qa' }) }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain('unknown stage "qa"');
      expect(failure?.stderr).not.toContain('    at ');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
