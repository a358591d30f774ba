/**
 * The LocalStack target (`-c target=localstack`, lib/target.ts): its configuration, and its templates
 * compared with the AWS target's, resource by resource and property by property. Every difference
 * must be one the allow-list below names, every entry of the allow-list must occur, and each entry's
 * row is in the differences table of docs/localstack.md ("What differs from AWS"): the test, the docs and lib/target.ts say the
 * same thing. Also the topics custom resource's handler (the provider framework's onEvent handler),
 * against a fake Kafka admin client.
 * Bundling is skipped: the templates are what is compared (`npx cdk synth -c target=localstack`
 * bundles for real).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from 'aws-cdk-lib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { analytics, consumers, topicForCluster, topics } from '../../core/topology';
import {
  handleEvent,
  handler,
  type KafkaTopicsDeps,
  type TopicSettings,
  type TopicsAdmin,
} from '../../lambdas/custom-resources/kafka-topics';
import { ConfigError, loadConfig } from '../../lib/config';
import { topicSettings } from '../../lib/constructs/kafka-admin-topics';
import { addDeployment } from '../../lib/stacks/app';
import { functionArchitecture, mappingAsDeployed, TARGET_FEATURES } from '../../lib/target';
import { contractSchemas } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';

const flags = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;
const docs = readFileSync(new URL('../../docs/localstack.md', import.meta.url), 'utf8');

/** CloudFormation template JSON, untyped by nature. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Cfn = any;
type Template = { Resources: Record<string, Cfn>; Outputs?: Record<string, Cfn> };
type StackName = 'kafka' | 'events';

/** Both templates of the deployment `context` configures, by stack ('kafka', 'events'). */
function templates(context: Record<string, unknown>): Record<StackName, Template> {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...flags, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const { platform, events } = addDeployment(
    app,
    loadConfig((k) => app.node.tryGetContext(k), {}),
    { nag: false },
  );
  const assembly = app.synth();
  return {
    kafka: assembly.getStackByName(platform.stackName).template,
    events: assembly.getStackByName(events.stackName).template,
  };
}

/** One difference between the AWS and the LocalStack template of a stack. */
interface Difference {
  readonly stack: StackName;
  /** `resource added|removed`: the whole resource; otherwise the property at `path`. */
  readonly change: 'resource added' | 'resource removed' | 'added' | 'removed' | 'changed';
  readonly type: string;
  readonly logicalId: string;
  /** `Properties.X.Y` (empty for a whole resource, `Outputs.<key>` for outputs). */
  readonly path: string;
}

/** Leaf differences between two JSON values. */
function diffValues(
  a: Cfn,
  b: Cfn,
  path: string,
  emit: (change: Difference['change'], path: string) => void,
) {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const objects =
    a !== null &&
    b !== null &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    Array.isArray(a) === Array.isArray(b);
  if (!objects) return emit('changed', path);
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in b)) emit('removed', at);
    else if (!(key in a)) emit('added', at);
    else diffValues(a[key], b[key], at, emit);
  }
}

/** Every difference between two stacks' templates (resource metadata, such as CDK paths, aside). */
function differences(stack: StackName, aws: Template, localstack: Template): Difference[] {
  const out: Difference[] = [];
  const ids = new Set([...Object.keys(aws.Resources), ...Object.keys(localstack.Resources)]);
  for (const logicalId of ids) {
    const a = aws.Resources[logicalId];
    const b = localstack.Resources[logicalId];
    if (!b) out.push({ stack, change: 'resource removed', type: a.Type, logicalId, path: '' });
    else if (!a) out.push({ stack, change: 'resource added', type: b.Type, logicalId, path: '' });
    else {
      const { Metadata: _a, ...restA } = a;
      const { Metadata: _b, ...restB } = b;
      diffValues(restA, restB, '', (change, path) =>
        out.push({ stack, change, type: b.Type, logicalId, path }),
      );
    }
  }
  diffValues(aws.Outputs ?? {}, localstack.Outputs ?? {}, 'Outputs', (change, path) =>
    out.push({ stack, change, type: 'Output', logicalId: path.split('.')[1] ?? '', path }),
  );
  return out;
}

/**
 * One documented difference: its row in docs/localstack.md ("What differs from AWS"), and the template differences it allows:
 * exactly `count` of them in each variant compared (or per stage).
 */
interface Allowed {
  readonly row: string;
  readonly stack: StackName;
  readonly change: Difference['change'];
  readonly type: string;
  readonly logicalId?: RegExp;
  readonly path?: RegExp;
  readonly count: number | Readonly<Record<'dev' | 'prod', number>>;
}

/** Functions with a Kafka environment: the consumers, the analytics consumer and the producer. */
const FUNCTIONS = consumers.length + 2;
/** Every function built as an EventFunction in the events stack: those and the analytics API. */
const EVENT_FUNCTIONS = FUNCTIONS + 1;
/** The contracts: one Glue schema each. */
const CONTRACTS = Object.keys(contractSchemas).length;
/** One mapping per consumer, and one per analytics source topic. */
const MAPPINGS = consumers.length + analytics.sources.length;
const MAPPING = 'AWS::Lambda::EventSourceMapping';
const mappingProperty = (row: string, path: RegExp, count = MAPPINGS): Allowed => ({
  row,
  stack: 'events',
  change: 'removed',
  type: MAPPING,
  path,
  count,
});

/** The differences table of docs/localstack.md ("What differs from AWS"), as template differences. */
const ALLOWED: readonly Allowed[] = [
  // Kafka client authentication
  ...(
    [
      ['removed', /^Properties\.ClientAuthentication\.Sasl$/],
      ['changed', /^Properties\.ClientAuthentication\.Unauthenticated\.Enabled$/],
      ['changed', /^Properties\.EncryptionInfo\.EncryptionInTransit\.ClientBroker$/],
    ] as const
  ).map(
    ([change, path]): Allowed => ({
      row: 'Kafka client authentication',
      stack: 'kafka',
      change,
      type: 'AWS::MSK::Cluster',
      path,
      count: 1,
    }),
  ),
  {
    row: 'Kafka client authentication',
    stack: 'events',
    change: 'changed',
    type: 'AWS::Lambda::Function',
    path: /^Properties\.Environment\.Variables\.KAFKA_AUTH$/,
    count: FUNCTIONS,
  },
  // Broker address: the answer's host replaced (Fn::Join of Fn::Select/Fn::Split), in place of the answer.
  ...(['removed', 'added'] as const).map(
    (change): Allowed => ({
      row: 'Broker address',
      stack: 'events',
      change,
      type: 'AWS::Lambda::Function',
      path: new RegExp(
        `^Properties\\.Environment\\.Variables\\.KAFKA_BROKERS\\.Fn::${change === 'removed' ? 'GetAtt' : 'Join'}$`,
      ),
      count: FUNCTIONS,
    }),
  ),
  // Function architecture (pinned to x86_64 here; the host's by default): the asset is built for it.
  ...[/^Properties\.Architectures\.0$/, /^Properties\.Code\.S3Key$/].map(
    (path): Allowed => ({
      row: 'Function architecture',
      stack: 'events',
      change: 'changed',
      type: 'AWS::Lambda::Function',
      path,
      count: EVENT_FUNCTIONS,
    }),
  ),
  // Glue Schema Registry: none, the contract files' ids, and no Glue read grants.
  {
    row: 'Glue Schema Registry',
    stack: 'events',
    change: 'resource removed',
    type: 'AWS::Glue::Registry',
    count: 1,
  },
  {
    row: 'Glue Schema Registry',
    stack: 'events',
    change: 'resource removed',
    type: 'AWS::Glue::Schema',
    count: CONTRACTS,
  },
  {
    row: 'Glue Schema Registry',
    stack: 'events',
    change: 'changed',
    type: 'AWS::Lambda::Function',
    path: /^Properties\.Environment\.Variables\.SCHEMA_VERSION_IDS$/,
    count: FUNCTIONS,
  },
  // The two Glue read statements (GlueReadRegistry, GlueReadSchemaVersions) leave each Kafka consumer's
  // role: last in the consumers' policies; in the analytics consumer's, the table's two follow and move up.
  ...(
    [
      ['removed', consumers.length * 2 + 2],
      ['changed', 6],
      ['added', 1],
    ] as const
  ).map(
    ([change, count]): Allowed => ({
      row: 'Glue Schema Registry',
      stack: 'events',
      change,
      type: 'AWS::IAM::Role',
      path: /^Properties\.Policies\.0\.PolicyDocument\.Statement\.\d+(\.|$)/,
      count,
    }),
  ),
  // Removal: DESTROY and no deletion protection by default on LocalStack; on AWS, prod retains.
  ...(
    [
      // The stacks' log keys and the keys CDK gives the custom resources' log groups; the broker log
      // group; the functions' and custom resources' log groups.
      ['kafka', 'AWS::KMS::Key', 2],
      ['kafka', 'AWS::Logs::LogGroup', 1],
      ['events', 'AWS::KMS::Key', 2],
      ['events', 'AWS::Logs::LogGroup', 8],
      ['events', 'AWS::DynamoDB::Table', 1],
    ] as const
  ).map(
    ([stack, type, resources]): Allowed => ({
      row: 'Removal',
      stack,
      change: 'changed',
      type,
      path: /^(DeletionPolicy|UpdateReplacePolicy)$/,
      count: { dev: 0, prod: resources * 2 },
    }),
  ),
  {
    row: 'Removal',
    stack: 'events',
    change: 'changed',
    type: 'AWS::DynamoDB::Table',
    path: /^Properties\.DeletionProtectionEnabled$/,
    count: { dev: 0, prod: 1 },
  },
  {
    row: 'Kafka client authentication',
    stack: 'events',
    change: 'changed',
    type: 'Custom::MskBootstrapBrokers',
    path: /^Properties\.(Create|Update)\.Fn::Join\.1\.\d+$/,
    count: 2,
  },
  // Broker configuration
  {
    row: 'Broker configuration',
    stack: 'kafka',
    change: 'resource removed',
    type: 'AWS::MSK::Configuration',
    count: 1,
  },
  {
    row: 'Broker configuration',
    stack: 'kafka',
    change: 'removed',
    type: 'AWS::MSK::Cluster',
    path: /^Properties\.ConfigurationInfo$/,
    count: 1,
  },
  // Topics
  {
    row: 'Topics',
    stack: 'kafka',
    change: 'resource removed',
    type: 'AWS::MSK::Topic',
    count: topics.length,
  },
  ...(
    [
      ['Custom::KafkaTopics', /^Topics[0-9A-F]{8}$/],
      // The handler, an EventFunction: its function, role and log group.
      ['AWS::Lambda::Function', /^TopicsHandlerFunction/],
      ['AWS::IAM::Role', /^TopicsHandlerRole/],
      ['AWS::Logs::LogGroup', /^TopicsHandlerLogs/],
      // CDK's provider framework in front of it: its function, and the role and log group given to it.
      ['AWS::Lambda::Function', /^TopicsProviderframeworkonEvent/],
      ['AWS::IAM::Role', /^TopicsProviderRole/],
      ['AWS::Logs::LogGroup', /^TopicsProviderLogs/],
      ['AWS::EC2::SecurityGroup', /^TopicsSecurityGroup/],
      ['AWS::EC2::SecurityGroupEgress', /^TopicsSecurityGroupto/],
      ['AWS::EC2::SecurityGroupIngress', /^NetworkBrokerSecurityGroupfrom.*TopicsSecurityGroup/],
      // Its bootstrap-broker lookup, as the events stack has one, and CDK's provider function of it.
      ['Custom::MskBootstrapBrokers', /^TopicsBootstrapBrokersLookup/],
      ['AWS::IAM::Policy', /^TopicsBootstrapBrokersLookupCustomResourcePolicy/],
      ['AWS::IAM::Role', /^TopicsBootstrapBrokersRole/],
      ['AWS::Logs::LogGroup', /^TopicsBootstrapBrokersLogs/],
      ['AWS::Lambda::Function', /^AWS679f53fac002430cb0da5b7982bd2287/],
    ] as const
  ).map(
    ([type, logicalId]): Allowed => ({
      row: 'Topics',
      stack: 'kafka',
      change: 'resource added',
      type,
      logicalId,
      count: 1,
    }),
  ),
  // VPC flow log
  ...(
    [
      ['AWS::EC2::FlowLog', /^NetworkVpcRejectedFlowsFlowLog/],
      ['AWS::IAM::Role', /^NetworkVpcRejectedFlowsIAMRole/],
      ['AWS::IAM::Policy', /^NetworkVpcRejectedFlowsIAMRoleDefaultPolicy/],
      ['AWS::Logs::LogGroup', /^NetworkFlowLogGroup/],
    ] as const
  ).map(
    ([type, logicalId]): Allowed => ({
      row: 'VPC flow log',
      stack: 'kafka',
      change: 'resource removed',
      type,
      logicalId,
      count: 1,
    }),
  ),
  // Dashboard
  {
    row: 'Dashboard',
    stack: 'events',
    change: 'resource removed',
    type: 'AWS::CloudWatch::Dashboard',
    count: 1,
  },
  // Event-source mappings
  mappingProperty('Provisioned pollers', /^Properties\.ProvisionedPollerConfig$/),
  mappingProperty('Retries, record age, bisection', /^Properties\.MaximumRetryAttempts$/),
  mappingProperty('Retries, record age, bisection', /^Properties\.MaximumRecordAgeInSeconds$/),
  mappingProperty('Retries, record age, bisection', /^Properties\.BisectBatchOnFunctionError$/),
  mappingProperty('Partial batch responses', /^Properties\.FunctionResponseTypes$/),
  mappingProperty('On-failure destination', /^Properties\.DestinationConfig$/),
  mappingProperty(
    'Schema-registry integration',
    /^Properties\.AmazonManagedKafkaEventSourceConfig\.SchemaRegistryConfig$/,
  ),
  // The analytics mappings have no filters: they count every event type.
  mappingProperty('Filters', /^Properties\.FilterCriteria$/, consumers.length),
  mappingProperty('Mapping system logs', /^Properties\.LoggingConfig$/),
  // On AWS in every stage, with four alarms per mapping on them.
  mappingProperty('Mapping metrics', /^Properties\.MetricsConfig$/),
  {
    row: 'Mapping metrics',
    stack: 'events',
    change: 'resource removed',
    type: 'AWS::CloudWatch::Alarm',
    logicalId:
      /^Observability(\w+consumer|analytics\w+events)(mappingdeadletters|recordsdropped|mappingerrors|notpolling)[0-9A-F]{8}$/,
    count: MAPPINGS * 4,
  },
];

/** `localhost.localstack.cloud:<port of the first broker GetBootstrapBrokers answers>`, as the template builds it. */
const brokersUnderLocalStackHost = (lookupId: unknown) => ({
  'Fn::Join': [
    ':',
    [
      'localhost.localstack.cloud',
      {
        'Fn::Select': [
          1,
          {
            'Fn::Split': [
              ':',
              {
                'Fn::Select': [
                  0,
                  { 'Fn::Split': [',', { 'Fn::GetAtt': [lookupId, 'BootstrapBrokerString'] }] },
                ],
              },
            ],
          },
        ],
      },
    ],
  ],
});

const matches = (a: Allowed, d: Difference) =>
  a.stack === d.stack &&
  a.change === d.change &&
  a.type === d.type &&
  (a.logicalId?.test(d.logicalId) ?? true) &&
  (a.path?.test(d.path) ?? true);

const show = (d: Difference) => `${d.stack}: ${d.change} ${d.type} ${d.logicalId} ${d.path}`.trim();

describe('target configuration', () => {
  it('is aws unless -c target says otherwise, and names the features each target has', () => {
    expect(loadConfig(() => undefined, {})).toMatchObject({ target: 'aws', features: TARGET_FEATURES.aws });
    const localstack = loadConfig((k) => (k === 'target' ? 'localstack' : undefined), {});
    expect(localstack).toMatchObject({ target: 'localstack', features: TARGET_FEATURES.localstack });
    expect(localstack.features.kafkaClientAuth).toBe('plaintext');
  });

  it('refuses an unknown target, naming the choices', () => {
    let error: unknown;
    try {
      loadConfig((k) => (k === 'target' ? 'localstak' : undefined), {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'target must be one of aws, localstack, not "localstak"',
    ]);
  });
});

describe('LocalStack settings', () => {
  const config = (context: Record<string, string>) => loadConfig((k) => context[k], {} as NodeJS.ProcessEnv);
  const problems = (context: Record<string, string>) => {
    try {
      config(context);
    } catch (e) {
      return (e as ConfigError).problems;
    }
    return [];
  };

  it('builds the functions for arm64 on AWS and for the host on LocalStack, unless told', () => {
    expect(functionArchitecture('aws', 'x64')).toBe('arm64');
    expect(functionArchitecture('localstack', 'arm64')).toBe('arm64');
    expect(functionArchitecture('localstack', 'x64')).toBe('x86_64');
    expect(functionArchitecture('localstack', 'arm64', 'x86_64')).toBe('x86_64');
    expect(config({}).functionArchitecture).toBe('arm64');
    expect(config({ target: 'localstack' }).functionArchitecture).toBe(
      process.arch === 'arm64' ? 'arm64' : 'x86_64',
    );
    expect(config({ target: 'localstack', lambdaArchitecture: 'arm64' }).functionArchitecture).toBe('arm64');
    expect(problems({ target: 'localstack', lambdaArchitecture: 'amd64' })).toEqual([
      'lambdaArchitecture must be one of arm64, x86_64, not "amd64"',
    ]);
  });

  it('turns the Glue registry on with localstackGlue, on LocalStack only', () => {
    expect(config({ target: 'localstack' }).features.glueSchemaRegistry).toBe(false);
    expect(config({ target: 'localstack', localstackGlue: 'true' }).features).toEqual({
      ...TARGET_FEATURES.localstack,
      glueSchemaRegistry: true,
    });
    expect(problems({ localstackGlue: 'true' })).toEqual([
      'localstackGlue is only used with target=localstack, not target=aws',
    ]);
  });

  it('destroys and unprotects by default on LocalStack, in every profile, unless told', () => {
    const prod = config({ target: 'localstack', stage: 'prod' });
    expect(prod).toMatchObject({
      destroyOnRemoval: true,
      terminationProtection: false,
      tableDeletionProtection: false,
    });
    expect(config({ stage: 'prod' })).toMatchObject({ destroyOnRemoval: false, terminationProtection: true });
    expect(config({ target: 'localstack', stage: 'prod', destroyOnRemoval: 'false' }).destroyOnRemoval).toBe(
      false,
    );
  });

  it('with localstackGlue, registers the contracts and gives the functions Glue’s ids', () => {
    const t = templates({ target: 'localstack', localstackGlue: 'true', lambdaArchitecture: 'x86_64' });
    const schemas = Object.values(t.events.Resources).filter((r) => r.Type === 'AWS::Glue::Schema');
    expect(schemas).toHaveLength(CONTRACTS);
    const producer = Object.values(t.events.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'dev-producer',
    );
    expect(JSON.stringify(producer.Properties.Environment.Variables.SCHEMA_VERSION_IDS)).toContain(
      'InitialSchemaVersionId',
    );
  });
});

describe.each([
  ['dev', {}],
  ['prod', { stage: 'prod' }],
] as const)('%s: the LocalStack template against the AWS one', (stage, context) => {
  const aws = templates(context);
  // The functions' architecture is the host's by default: pinned, so the comparison is the same on every machine.
  const localstack = templates({ ...context, target: 'localstack', lambdaArchitecture: 'x86_64' });
  const found = (['kafka', 'events'] as const).flatMap((s) => differences(s, aws[s], localstack[s]));

  it('differs only in the documented ways', () => {
    expect(found.filter((d) => !ALLOWED.some((a) => matches(a, d))).map(show)).toEqual([]);
  });

  it('differs in each documented way exactly as many times as documented', () => {
    const summary = (a: Allowed, count: number) => ({
      row: a.row,
      change: `${a.change} ${a.type} ${a.logicalId ?? ''} ${a.path ?? ''}`,
      count,
    });
    expect(ALLOWED.map((a) => summary(a, found.filter((d) => matches(a, d)).length))).toEqual(
      ALLOWED.map((a) => summary(a, typeof a.count === 'number' ? a.count : a.count[stage])),
    );
  });

  it('keeps every mapping setting LocalStack implements as on AWS', () => {
    const kept = [
      'BatchSize',
      'MaximumBatchingWindowInSeconds',
      'StartingPosition',
      'Topics',
      'EventSourceArn',
      'FunctionName',
    ];
    const mappings = (t: Template) =>
      Object.entries(t.Resources)
        .filter(([, r]) => r.Type === MAPPING)
        .map(([id, r]) => [id, r.Properties]);
    const pick = (p: Cfn) => ({
      ...Object.fromEntries(kept.map((k) => [k, p[k]])),
      group: p.AmazonManagedKafkaEventSourceConfig?.ConsumerGroupId,
    });
    const ofAws = mappings(aws.events);
    expect(ofAws).toHaveLength(MAPPINGS);
    expect(mappings(localstack.events).map(([id, p]) => [id, pick(p)])).toEqual(
      ofAws.map(([id, p]) => [id, pick(p)]),
    );
  });

  it.each([
    ['aws', () => aws],
    ['localstack', () => localstack],
  ] as const)(
    '%s: each mapping has exactly the settings the local mapping runs by (mappingAsDeployed)',
    (target, t) => {
      const resources = t().events.Resources;
      for (const spec of consumers) {
        const fnId = Object.entries(resources).find(
          ([, r]) =>
            r.Type === 'AWS::Lambda::Function' && String(r.Properties.FunctionName).endsWith(`-${spec.name}`),
        )?.[0];
        const p = Object.values(resources).find(
          (r) => r.Type === MAPPING && r.Properties.FunctionName?.Ref === fnId,
        )?.Properties;
        const pollers = p?.ProvisionedPollerConfig
          ? {
              minimum: p.ProvisionedPollerConfig.MinimumPollers,
              maximum: p.ProvisionedPollerConfig.MaximumPollers,
            }
          : undefined;
        const d = mappingAsDeployed(spec.mapping, TARGET_FEATURES[target].kafkaMapping, pollers);
        const registry = p?.AmazonManagedKafkaEventSourceConfig?.SchemaRegistryConfig;
        expect({
          consumerGroupId: p?.AmazonManagedKafkaEventSourceConfig?.ConsumerGroupId,
          batchSize: p?.BatchSize,
          maximumBatchingWindowSeconds: p?.MaximumBatchingWindowInSeconds,
          errorHandling:
            p?.MaximumRetryAttempts === undefined
              ? undefined
              : {
                  maximumRetryAttempts: p.MaximumRetryAttempts,
                  maximumRecordAgeSeconds: p.MaximumRecordAgeInSeconds ?? -1,
                  bisectBatchOnFunctionError: p.BisectBatchOnFunctionError,
                },
          reportBatchItemFailures: (p?.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
          onFailureTopic: p?.DestinationConfig?.OnFailure?.Destination?.replace(/^kafka:\/\//, ''),
          filters: (p?.FilterCriteria?.Filters ?? []).map((f: { Pattern: string }) => ({
            pattern: JSON.parse(f.Pattern),
          })),
          provisionedPollers: pollers,
          schemaRegistry: registry
            ? {
                eventRecordFormat: registry.EventRecordFormat,
                validateValue: (registry.SchemaValidationConfigs ?? []).some(
                  (c: { Attribute: string }) => c.Attribute === 'VALUE',
                ),
              }
            : undefined,
        }).toEqual({
          consumerGroupId: d.consumerGroupId,
          batchSize: d.batchSize,
          maximumBatchingWindowSeconds: d.maximumBatchingWindowSeconds,
          errorHandling: d.errorHandling,
          reportBatchItemFailures: d.reportBatchItemFailures,
          onFailureTopic: d.onFailureTopic,
          filters: d.filters,
          provisionedPollers: d.provisionedPollers,
          schemaRegistry: d.schemaRegistry,
        });
      }
    },
  );

  it('gives the functions the broker under LocalStack’s host and the contract files’ schema ids, no Glue', () => {
    const functions = Object.values(localstack.events.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.KAFKA_BROKERS,
    );
    expect(functions).toHaveLength(FUNCTIONS);
    for (const fn of functions) {
      const variables = fn.Properties.Environment.Variables;
      expect(variables.KAFKA_BROKERS).toEqual(
        brokersUnderLocalStackHost(expect.stringMatching(/^BootstrapBrokersLookup/)),
      );
      const ids = JSON.parse(variables.SCHEMA_VERSION_IDS) as Record<string, string>;
      expect(Object.keys(ids).length).toBeGreaterThan(0);
      for (const [name, id] of Object.entries(ids))
        expect(id).toBe(localSchemaVersionId(name as keyof typeof contractSchemas));
    }
    for (const t of [localstack.kafka, localstack.events])
      expect(Object.values(t.Resources).filter((r) => String(r.Type).startsWith('AWS::Glue::'))).toEqual([]);
  });

  it('outputs the cluster ARN and the API URL the smoke script looks up', () => {
    // scripts/localstack/smoke.ts reads .cache/localstack-outputs.json with these patterns.
    const keys = [
      ...Object.keys(localstack.kafka.Outputs ?? {}),
      ...Object.keys(localstack.events.Outputs ?? {}),
    ];
    expect(keys.filter((k) => /ClusterArn/i.test(k))).toEqual(['ClusterArn']);
    expect(keys.find((k) => /ApiUrl|Endpoint/i.test(k))).toMatch(/^ProducerApiEndpoint/);
    expect(Object.keys(aws.kafka.Outputs ?? {})).toContain('ClusterArn');
  });

  it('creates the topics for one broker through the custom resource, deleted with the stack', () => {
    const [resource] = Object.values(localstack.kafka.Resources).filter(
      (r) => r.Type === 'Custom::KafkaTopics',
    );
    // LocalStack's state is disposable (lib/target.ts): destroyOnRemoval defaults to true in every profile.
    expect(resource.DeletionPolicy).toBe('Delete');
    expect(resource.Properties.KafkaAuth).toBe('plaintext');
    // The answered broker's port, under the host LocalStack's containers resolve to LocalStack.
    expect(resource.Properties.Brokers).toEqual(
      brokersUnderLocalStackHost(expect.stringMatching(/^TopicsBootstrapBrokersLookup/)),
    );
    // LocalStack runs one broker: replication 1, one in sync (AWS keeps 3 and 2).
    const settings = JSON.parse(resource.Properties.Topics);
    expect(settings).toEqual(topics.map((t) => topicSettings(topicForCluster(t, 1))));
    expect(new Set(settings.map((t: Cfn) => `${t.replicationFactor}/${t.minInSyncReplicas}`))).toEqual(
      new Set(['1/1']),
    );
    const [fn] = Object.values(localstack.kafka.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `${stage}-kafka-topics`,
    );
    expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(3);
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
  });

  it('puts CDK’s provider framework, outside the VPC, between CloudFormation and the topics handler', () => {
    const resources = localstack.kafka.Resources;
    const idOf = (predicate: (r: Cfn) => boolean) =>
      Object.keys(resources).find((id) => predicate(resources[id]));
    const handlerId = idOf(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `${stage}-kafka-topics`,
    ) as string;
    const frameworkId = idOf(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'framework.onEvent',
    ) as string;
    expect(frameworkId).toBeDefined();
    const [resource] = Object.values(resources).filter((r) => r.Type === 'Custom::KafkaTopics');
    // CloudFormation invokes the framework, which invokes the handler.
    expect(resource.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [frameworkId, 'Arn'] });
    const framework = resources[frameworkId].Properties;
    expect(framework.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN).toEqual({
      'Fn::GetAtt': [handlerId, 'Arn'],
    });
    // It talks to the Lambda API and the response URL only: no VPC.
    expect(framework.VpcConfig).toBeUndefined();
    // It outlives the handler, so the handler's timeout is reported as a failure, not left unanswered.
    expect(framework.Timeout).toBeGreaterThan(resources[handlerId].Properties.Timeout);
    // Its own log group, encrypted and retained like every other; its role may invoke the handler only.
    const logs = resources[framework.LoggingConfig.LogGroup.Ref];
    expect(logs.Type).toBe('AWS::Logs::LogGroup');
    expect(logs.Properties.KmsKeyId).toBeDefined();
    expect(logs.Properties.RetentionInDays).toBeGreaterThan(0);
    const role = resources[framework.Role['Fn::GetAtt'][0]].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies.flatMap((p: Cfn) => p.PolicyDocument.Statement)).toEqual([
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [framework.LoggingConfig.LogGroup.Ref, 'Arn'] },
      }),
      expect.objectContaining({
        Action: ['lambda:GetFunction', 'lambda:InvokeFunction'],
        Resource: { 'Fn::GetAtt': [handlerId, 'Arn'] },
      }),
    ]);
    expect(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .map((r) => r.Properties.Roles),
    ).not.toContainEqual([{ Ref: framework.Role['Fn::GetAtt'][0] }]);
  });

  it('builds the topics handler as every function: an EventFunction', () => {
    const functions = Object.values(localstack.events.Resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
    );
    const [consumer] = functions;
    const [handler] = Object.values(localstack.kafka.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `${stage}-kafka-topics`,
    );
    const shape = (p: Cfn) => ({
      runtime: p.Runtime,
      architectures: p.Architectures,
      tracing: p.TracingConfig,
      handler: p.Handler,
      logsToOwnGroup: 'Ref' in (p.LoggingConfig?.LogGroup ?? {}),
      environment: Object.keys(p.Environment.Variables).filter((k) => /^(POWERTOOLS_|NODE_OPTIONS)/.test(k)),
      nodeOptions: p.Environment.Variables.NODE_OPTIONS,
    });
    expect(shape(handler.Properties)).toEqual(shape(consumer.Properties));
    expect(handler.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe('kafka-topics');
  });
});

describe('docs/localstack.md ("What differs from AWS")', () => {
  it('has a row in its differences table for every documented difference', () => {
    for (const row of new Set(ALLOWED.map((a) => a.row)))
      expect(docs, `docs/localstack.md ("What differs from AWS") has the row "${row}"`).toContain(
        `| ${row} |`,
      );
  });
});

describe('Custom::KafkaTopics handler (fake Kafka admin)', () => {
  const settings: TopicSettings[] = [
    topicSettings(topics[0] as (typeof topics)[number]),
    topicSettings(topics[7] as (typeof topics)[number]),
  ];

  function fakeAdmin(existing: Record<string, number>, options: { failConnect?: boolean } = {}) {
    const calls: { op: string; args: unknown }[] = [];
    const partitions = { ...existing };
    const admin = {
      connect: async () => {
        if (options.failConnect) throw new Error('Connection error: ECONNREFUSED');
      },
      disconnect: async () => {},
      describeCluster: async () => ({
        brokers: [{ nodeId: 1, host: 'b', port: 1 }],
        controller: 1,
        clusterId: 'c',
      }),
      listTopics: async () => Object.keys(partitions),
      createTopics: async (args: { topics: { topic: string; numPartitions: number }[] }) => {
        calls.push({ op: 'createTopics', args });
        for (const t of args.topics) partitions[t.topic] = t.numPartitions;
        return true;
      },
      fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => ({
        topics: names.map((name) => ({
          name,
          partitions: Array.from({ length: partitions[name] ?? 0 }, (_, i) => ({ partitionId: i })),
        })),
      }),
      createPartitions: async (args: unknown) => {
        calls.push({ op: 'createPartitions', args });
        return true;
      },
      alterConfigs: async (args: unknown) => {
        calls.push({ op: 'alterConfigs', args });
        return {};
      },
      deleteTopics: async (args: unknown) => {
        calls.push({ op: 'deleteTopics', args });
      },
    } as unknown as TopicsAdmin;
    const deps: KafkaTopicsDeps = { admin: () => admin, log: () => {} };
    return { deps, calls };
  }

  const event = (
    requestType: 'Create' | 'Update' | 'Delete',
    props: Partial<Record<string, string>> = {},
  ): CloudFormationCustomResourceEvent =>
    ({
      RequestType: requestType,
      ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:dev-kafka-topics',
      ResponseURL: 'http://127.0.0.1/response',
      StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/dev-kafka/1',
      RequestId: 'r-1',
      LogicalResourceId: 'Topics025BDD29',
      ResourceType: 'Custom::KafkaTopics',
      PhysicalResourceId: 'kafka-topics:old',
      ResourceProperties: {
        ServiceToken: 'x',
        ClusterArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/dev-events/abc',
        Brokers: 'localhost.localstack.cloud:4511',
        KafkaAuth: 'plaintext',
        Topics: JSON.stringify(settings),
        ...props,
      },
      OldResourceProperties: {},
    }) as unknown as CloudFormationCustomResourceEvent;

  it('creates the missing topics, clamped to the brokers the cluster has, and sets the existing ones', async () => {
    const { deps, calls } = fakeAdmin({ 'user-events': 6 });
    expect(await handleEvent(event('Create'), deps)).toEqual({
      PhysicalResourceId: 'kafka-topics:arn:aws:kafka:us-east-1:000000000000:cluster/dev-events/abc',
      Data: { Created: 'user-events.dlq', Existing: 'user-events', PartitionsAdded: '' },
    });
    expect(calls.map((c) => c.op)).toEqual(['createTopics', 'alterConfigs']);
    expect(calls[0]?.args).toMatchObject({
      topics: [
        {
          topic: 'user-events.dlq',
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: expect.arrayContaining([{ name: 'min.insync.replicas', value: '1' }]),
        },
      ],
    });
    expect(calls[1]?.args).toMatchObject({
      resources: [{ type: 2, name: 'user-events', configEntries: expect.any(Array) }],
    });
  });

  it('adds partitions on update, and refuses to remove any', async () => {
    const grow = fakeAdmin({ 'user-events': 3, 'user-events.dlq': 3 });
    expect(await handleEvent(event('Update'), grow.deps)).toMatchObject({
      Data: { Created: '', PartitionsAdded: 'user-events' },
    });
    expect(grow.calls.find((c) => c.op === 'createPartitions')?.args).toEqual({
      topicPartitions: [{ topic: 'user-events', count: 6 }],
    });
    const shrink = fakeAdmin({ 'user-events': 12, 'user-events.dlq': 3 });
    await expect(handleEvent(event('Update'), shrink.deps)).rejects.toThrow(
      'Kafka cannot remove partitions: user-events has 12',
    );
    expect(shrink.calls.map((c) => c.op)).not.toContain('createPartitions');
  });

  it('deletes the topics on Delete, and does not hold up a deletion when the cluster is gone', async () => {
    const { deps, calls } = fakeAdmin({ 'user-events': 6, other: 1 });
    // The physical id is the one CloudFormation deletes: the framework refuses any other on Delete.
    expect(await handleEvent(event('Delete'), deps)).toEqual({
      PhysicalResourceId: 'kafka-topics:old',
      Data: { Deleted: 'user-events' },
    });
    expect(calls).toEqual([{ op: 'deleteTopics', args: { topics: ['user-events'], timeout: 30_000 } }]);
    const gone = fakeAdmin({}, { failConnect: true });
    expect(await handleEvent(event('Delete'), gone.deps)).toEqual({
      PhysicalResourceId: 'kafka-topics:old',
      Data: { Deleted: '', NotDeleted: 'topics not deleted: Connection error: ECONNREFUSED' },
    });
  });

  it('fails with the reason on bad properties or an unreachable cluster', async () => {
    await expect(handleEvent(event('Create', { Brokers: '' }), fakeAdmin({}).deps)).rejects.toThrow(
      'KAFKA_BROKERS is not set',
    );
    await expect(handleEvent(event('Create', { KafkaAuth: 'scram' }), fakeAdmin({}).deps)).rejects.toThrow(
      new Error('KAFKA_AUTH must be "iam" or "plaintext", not "scram"'),
    );
    await expect(handleEvent(event('Create', { Topics: '{' }), fakeAdmin({}).deps)).rejects.toThrow(
      new Error('the Topics property is not JSON'),
    );
    await expect(handleEvent(event('Create'), fakeAdmin({}, { failConnect: true }).deps)).rejects.toThrow(
      new Error('Connection error: ECONNREFUSED'),
    );
  });

  it('leaves the response URL to the provider framework: the handler returns or throws', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const withUrl = (e: CloudFormationCustomResourceEvent) =>
        ({
          ...e,
          ResponseURL: `http://127.0.0.1:${port}/signed?X-Amz-Signature=x`,
        }) as CloudFormationCustomResourceEvent;
      // Bad properties fail before any Kafka connection: the error is the framework's failure reason.
      await expect(handler(withUrl(event('Create', { KafkaAuth: 'scram' })))).rejects.toThrow(
        new Error('KAFKA_AUTH must be "iam" or "plaintext", not "scram"'),
      );
      await expect(handler(withUrl(event('Delete', { KafkaAuth: 'scram' })))).resolves.toEqual({
        PhysicalResourceId: 'kafka-topics:old',
        Data: {
          Deleted: '',
          NotDeleted: 'topics not deleted: KAFKA_AUTH must be "iam" or "plaintext", not "scram"',
        },
      });
      expect(received).toEqual([]);
    } finally {
      server.close();
    }
  });
});
