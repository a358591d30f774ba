/**
 * What AWS would refuse or trip over at deploy time, checked at synth: the Availability Zones MSK
 * cannot use, a destroy followed by a deploy, the interface endpoints provisioned pollers do not need,
 * the encoding of AWS::MSK::Topic `Configs`, the log groups' encryption and the producer's concurrency.
 * Each rests on the AWS page cited where the code does it. Bundling is skipped: templates only.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';
import { decodeTopicConfigs, encodeTopicConfigs } from '../../lib/constructs/topics';
import { addDeployment } from '../../lib/stacks/app';

const flags = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** CloudFormation template JSON, untyped by nature. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Cfn = any;
type Template = { Resources: Record<string, Cfn>; Rules?: Record<string, Cfn> };

/** Both templates of the deployment `context` configures, in the environment `env`. */
function synth(
  context: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
): { kafka: Template; events: Template } {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...flags, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const { platform, events } = addDeployment(
    app,
    loadConfig((k) => app.node.tryGetContext(k), env),
    {
      nag: false,
    },
  );
  const assembly = app.synth();
  return {
    kafka: assembly.getStackByName(platform.stackName).template,
    events: assembly.getStackByName(events.stackName).template,
  };
}

const ofType = (t: Template, type: string): [string, Cfn][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);

/** The problems loadConfig reports, or [] when it accepts the configuration. */
function problemsOf(context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    loadConfig((k) => context[k], env);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

const useast1 = { CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'us-east-1' };

describe('Availability Zones (MSK cannot use use1-az3)', () => {
  it('refuses use1-az3 among the zone IDs, saying why', () => {
    const problems = problemsOf({ availabilityZoneIds: 'use1-az1,use1-az3,use1-az4' }, useast1);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^availabilityZoneIds: Amazon MSK cannot place brokers in use1-az3/);
  });

  it('refuses us-east-1 with unpinned zones or zone names, naming the setting to use', () => {
    const [unpinned] = problemsOf({}, useast1);
    expect(unpinned).toMatch(/^region us-east-1 needs pinned zones/);
    expect(unpinned).toContain('set availabilityZoneIds');
    const [named] = problemsOf({ availabilityZones: 'us-east-1a,us-east-1b,us-east-1c' });
    expect(named).toMatch(/^availabilityZones: in us-east-1 a zone name may be use1-az3/);
    expect(problemsOf({ availabilityZoneIds: 'use1-az1,use1-az2,use1-az4' }, useast1)).toEqual([]);
    expect(
      problemsOf({ availabilityZoneIds: 'use1-az1,use1-az2,use1-az4', availabilityZones: 'a,b,c' }),
    ).toContain('give availabilityZoneIds or availabilityZones, not both (zone IDs are the reliable choice)');
    expect(problemsOf({ availabilityZoneIds: 'use1-az1,use1-az2' })).toEqual([
      'availabilityZoneIds must name three different zones, not "use1-az1,use1-az2"',
    ]);
    // LocalStack emulates MSK in a container: no zone to refuse.
    expect(problemsOf({ target: 'localstack' }, useast1)).toEqual([]);
  });

  it('places the subnets by zone ID when given zone IDs', () => {
    const { kafka } = synth(
      { availabilityZoneIds: 'use1-az1,use1-az2,use1-az4' },
      { CDK_DEFAULT_REGION: 'us-east-1' },
    );
    const subnets = ofType(kafka, 'AWS::EC2::Subnet').map(([, s]) => s.Properties);
    expect(subnets.map((s) => s.AvailabilityZoneId)).toEqual(['use1-az1', 'use1-az2', 'use1-az4']);
    for (const s of subnets) expect(s.AvailabilityZone).toBeUndefined();
  });

  it('refuses us-east-1 before creating anything when the region is unknown at synth and zones are unpinned', () => {
    // CDK adds its own rule (CheckBootstrapVersion); this one names the zones.
    const zoneRules = (t: Template) =>
      Object.entries(t.Rules ?? {})
        .filter(([id]) => id.startsWith('ZonesPinnedIn'))
        .map(([, r]) => r);
    const rules = zoneRules(synth().kafka);
    expect(rules).toHaveLength(1);
    expect(rules[0].Assertions).toEqual([
      {
        Assert: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] }] },
        AssertDescription: expect.stringContaining('availabilityZoneIds'),
      },
    ]);
    expect(zoneRules(synth({ availabilityZones: 'eu-west-1a,eu-west-1b,eu-west-1c' }).kafka)).toEqual([]);
    expect(zoneRules(synth({}, { CDK_DEFAULT_REGION: 'eu-west-1' }).kafka)).toEqual([]);
  });
});

/**
 * The properties that give a resource a fixed physical name, by type. A resource with one and a
 * Retain policy survives `cdk destroy`, and the next `cdk deploy` fails creating its namesake.
 */
const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Glue::Registry': 'Name',
  'AWS::Glue::Schema': 'Name',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::MSK::Topic': 'TopicName',
  'AWS::MSK::Configuration': 'Name',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Lambda::Function': 'FunctionName',
};
const RETAINED = ['Retain', 'RetainExceptOnCreate'];

/** The logical id a value refers to (`Ref` or `Fn::GetAtt`), if any. */
const referenced = (value: Cfn): string | undefined => value?.Ref ?? value?.['Fn::GetAtt']?.[0];

/** Retained resources with a fixed name that nothing deleted with the stack scopes. */
function retainedNamed(t: Template): string[] {
  return Object.entries(t.Resources)
    .filter(([, r]) => RETAINED.includes(r.DeletionPolicy))
    .filter(([, r]) => {
      const name = NAME_PROPERTIES[r.Type];
      if (!name || r.Properties?.[name] === undefined) return false;
      // A topic's name lives in its cluster: deleted with the stack, the cluster takes it along.
      if (r.Type === 'AWS::MSK::Topic') {
        const cluster = t.Resources[referenced(r.Properties.ClusterArn) ?? ''];
        return !cluster || RETAINED.includes(cluster.DeletionPolicy);
      }
      return true;
    })
    .map(([id, r]) => `${r.Type} ${id}`);
}

describe('destroy, then deploy again', () => {
  it('keeps no resource with a fixed name under the default configuration', () => {
    const { kafka, events } = synth();
    expect([...retainedNamed(kafka), ...retainedNamed(events)]).toEqual([]);
  });

  it('never gives a log group a fixed name, in dev or prod', () => {
    for (const stage of ['dev', 'prod']) {
      const { kafka, events } = synth({ stage });
      const groups = [...ofType(kafka, 'AWS::Logs::LogGroup'), ...ofType(events, 'AWS::Logs::LogGroup')];
      expect(groups.length).toBeGreaterThan(4);
      for (const [id, g] of groups) expect(g.Properties.LogGroupName, `${stage} ${id}`).toBeUndefined();
    }
  });

  it('keeps only the registry and its schemas named in prod, where they are retained on purpose', () => {
    const { kafka, events } = synth({ stage: 'prod' });
    expect(retainedNamed(kafka)).toEqual([]);
    expect(new Set(retainedNamed(events).map((r) => r.split(' ')[0]))).toEqual(
      new Set(['AWS::Glue::Registry', 'AWS::Glue::Schema']),
    );
  });
});

describe('interface endpoints (only on-demand pollers need them)', () => {
  it('creates none by default, and gives the mappings no path but to the brokers', () => {
    const { kafka } = synth();
    // DynamoDB's gateway endpoint (free, routes only: no interface) is the only endpoint.
    expect(ofType(kafka, 'AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties.VpcEndpointType)).toEqual([
      'Gateway',
    ]);
    const mappingGroup = ofType(kafka, 'AWS::EC2::SecurityGroup').find(([id]) =>
      id.startsWith('NetworkMappingSecurityGroup'),
    )?.[0];
    const egress = [
      ...ofType(kafka, 'AWS::EC2::SecurityGroupEgress')
        .filter(([, e]) => referenced(e.Properties.GroupId) === mappingGroup)
        .map(([, e]) => e.Properties),
      ...(kafka.Resources[mappingGroup as string].Properties.SecurityGroupEgress ?? []),
    ];
    expect(egress.map((e) => e.FromPort).filter((p) => p !== 252)).toEqual([9098]);
  });

  it('accepts no NAT and no endpoints: provisioned pollers need neither', () => {
    expect(problemsOf({ interfaceEndpoints: 'false', natGateways: '0' })).toEqual([]);
  });
});

describe('AWS::MSK::Topic Configs', () => {
  it('is Base64 of a JSON object of string values with sorted keys, as Terraform’s aws_msk_topic sends', () => {
    // The configuration of hashicorp/terraform-provider-aws's TestAccKafkaTopic_configs, which runs
    // against a real cluster: `configs = jsonencode({...})`, jsonencode sorting the keys.
    const terraform =
      '{"cleanup.policy":"delete","min.insync.replicas":"2","retention.bytes":"-1","retention.ms":"604800000"}';
    expect(
      encodeTopicConfigs({
        'retention.ms': '604800000',
        'retention.bytes': '-1',
        'cleanup.policy': 'delete',
        'min.insync.replicas': '2',
      }),
    ).toBe(Buffer.from(terraform, 'utf8').toString('base64'));
    expect(() => encodeTopicConfigs({ 'retention.ms': 604800000 as unknown as string })).toThrow(
      'topic configuration retention.ms must be a string, not 604800000',
    );
  });

  it('decodes, in every synthesized topic, to that JSON: never Java properties lines', () => {
    const topics = ofType(synth().kafka, 'AWS::MSK::Topic');
    expect(topics.length).toBeGreaterThan(0);
    for (const [, t] of topics) {
      const text = Buffer.from(t.Properties.Configs, 'base64').toString('utf8');
      const parsed = JSON.parse(text);
      const keys = Object.keys(parsed);
      expect(keys).toEqual([...keys].sort());
      for (const value of Object.values(parsed)) expect(typeof value).toBe('string');
      expect(text).toBe(JSON.stringify(decodeTopicConfigs(t.Properties.Configs)));
      expect(text).not.toMatch(/^[\w.]+=/m);
    }
  });
});

describe('hardening', () => {
  it('encrypts the log groups with a key CloudWatch Logs may use for this account’s log groups only', () => {
    const { kafka, events } = synth();
    for (const t of [kafka, events]) {
      const groups = ofType(t, 'AWS::Logs::LogGroup');
      expect(groups.length).toBeGreaterThan(1);
      for (const [id, g] of groups) {
        const keyId = g.Properties.KmsKeyId?.['Fn::GetAtt']?.[0];
        expect(keyId, id).toBeDefined();
        const key = t.Resources[keyId];
        expect(key.Type).toBe('AWS::KMS::Key');
        expect(key.Properties.EnableKeyRotation).toBe(true);
        const logs = key.Properties.KeyPolicy.Statement.find((s: Cfn) =>
          JSON.stringify(s.Principal).includes('logs.'),
        );
        expect(logs.Principal.Service).toEqual({
          'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
        });
        expect([...logs.Action].sort()).toEqual([
          'kms:Decrypt*',
          'kms:Describe*',
          'kms:Encrypt*',
          'kms:GenerateDataKey*',
          'kms:ReEncrypt*',
        ]);
        expect(JSON.stringify(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn'])).toMatch(
          /:logs:.*AWS::Region.*AWS::AccountId.*:log-group:\*/,
        );
      }
    }
  });

  it('bounds the producer’s concurrency from the configuration', () => {
    const producer = (t: Template) =>
      ofType(t, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === `${'dev'}-producer`);
    expect(producer(synth().events)?.[1].Properties.ReservedConcurrentExecutions).toBe(10);
    expect(
      producer(synth({ producerReservedConcurrency: '25' }).events)?.[1].Properties
        .ReservedConcurrentExecutions,
    ).toBe(25);
    expect(loadConfig((k) => ({ stage: 'prod' })[k as 'stage'], {}).api.producerReservedConcurrency).toBe(
      100,
    );
    expect(problemsOf({ producerReservedConcurrency: '0' })).toEqual([
      'producerReservedConcurrency must be an integer from 1 to 1000, not "0"',
    ]);
  });
});
