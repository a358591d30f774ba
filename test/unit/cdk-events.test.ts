/**
 * The application stack (`<stage>-events`): contracts in Glue, one consumer function with its MSK
 * event-source mapping per consumer of the topology, the producer API, the dashboard and the alarms,
 * and the IAM each function gets. Bundling is skipped: these tests read templates, not bundles.
 */

import { readFileSync } from 'node:fs';
import { App, Lazy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../core/api/openapi';
import {
  analytics,
  type ConsumerSpec,
  consumers,
  streams,
  TopologyError,
  topics,
  topicsWrittenBy,
} from '../../core/topology';
import { loadConfig } from '../../lib/config';
import { assertEnvironmentFits, LAMBDA_ENVIRONMENT_LIMIT_BYTES } from '../../lib/constructs/event-function';
import { API_ROUTES } from '../../lib/constructs/producer-api';
import { addDeployment, type DeploymentOptions } from '../../lib/stacks/app';
import { contractsOfConsumer, contractsOfProducer } from '../../lib/stacks/events-stack';
import { defaultTopology } from '../../lib/stacks/shared';
import { type ContractName, contractSchemas, schemaDefinition } from '../../schemas/index';

const flags = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** The application template of the deployment `context` configures. */
function events(context: Record<string, unknown> = {}, options: DeploymentOptions = {}): Template {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...flags, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const config = loadConfig((k) => app.node.tryGetContext(k), {});
  return Template.fromStack(addDeployment(app, config, { nag: false, ...options }).events);
}

/** CloudFormation template JSON, untyped by nature: the assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Cfn = any;
type Resource = {
  Type: string;
  Properties: Record<string, Cfn>;
  DeletionPolicy?: string;
  DependsOn?: string[];
};
const resources = (t: Template, type: string): [string, Resource][] =>
  Object.entries(t.findResources(type) as Record<string, Resource>);

/**
 * A CloudFormation value as text: `Fn::Join` joined, `Ref` as `<Name>`, `Fn::GetAtt` as `<Name.Attr>`,
 * an import as `<import:Export>`, and the cluster UUID (`Fn::Select 2` of the split cluster ARN) as
 * `<cluster-uuid>`.
 */
function render(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const v = value as Record<string, Cfn>;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
  if (v.Ref) return `<${v.Ref}>`;
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
  if (v['Fn::ImportValue']) return `<import:${v['Fn::ImportValue']}>`;
  if (v['Fn::Select']?.[0] === 2 && v['Fn::Select'][1]['Fn::Split']?.[0] === '/') return '<cluster-uuid>';
  return JSON.stringify(value);
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** Every IAM statement of a role: its inline policies and the AWS::IAM::Policy resources attached to it. */
function statementsOfRole(t: Template, roleId: string): Statement[] {
  const [, role] = resources(t, 'AWS::IAM::Role').find(([id]) => id === roleId) as [string, Resource];
  const inline = (role.Properties.Policies ?? []).flatMap(
    (p: Cfn) => p.PolicyDocument.Statement as Statement[],
  );
  const attached = resources(t, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles ?? []).some((r: Cfn) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
  return [...inline, ...attached];
}

/** The function named `name`, its logical id and its role's logical id. */
function functionNamed(t: Template, name: string): { id: string; fn: Resource; roleId: string } {
  const found = resources(t, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === name);
  if (!found) throw new Error(`no function named ${name}`);
  const [id, fn] = found;
  return { id, fn, roleId: fn.Properties.Role['Fn::GetAtt'][0] };
}

/** Resources (rendered) each Kafka action is allowed on, for one role. */
function kafkaGrants(t: Template, roleId: string): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const s of statementsOfRole(t, roleId)) {
    for (const action of list(s.Action)) {
      if (!action.startsWith('kafka-cluster:')) continue;
      grants.set(action, [...(grants.get(action) ?? []), ...list(s.Resource).map(render)].sort());
    }
  }
  return grants;
}

const topicArn = (topic: string) =>
  expect.stringMatching(new RegExp(`:topic/dev-events/<cluster-uuid>/${topic.replace('.', '\\.')}$`));
const clusterArn = expect.stringMatching(/^<import:dev-kafka:ExportsOutputFnGetAttKafkaCluster\w+Arn\w*>$/);

const dev = events();

describe('schema registry', () => {
  it('registers every contract in one Glue registry as JSON, BACKWARD compatible, with the definition the validator compiles', () => {
    dev.resourceCountIs('AWS::Glue::Registry', 1);
    dev.hasResourceProperties('AWS::Glue::Registry', { Name: 'dev-events' });
    dev.resourceCountIs('AWS::Glue::Schema', Object.keys(contractSchemas).length);
    const [[registryId]] = resources(dev, 'AWS::Glue::Registry') as [[string, Resource]];
    for (const name of Object.keys(contractSchemas) as ContractName[]) {
      dev.hasResourceProperties('AWS::Glue::Schema', {
        Name: name,
        DataFormat: 'JSON',
        Compatibility: 'BACKWARD',
        SchemaDefinition: schemaDefinition(name),
        Registry: { Arn: { 'Fn::GetAtt': [registryId, 'Arn'] } },
      });
    }
    dev.resourceCountIs('AWS::Glue::SchemaVersion', 0);
  });

  it('retains the registry and schemas in prod and deletes them in dev, unless told otherwise', () => {
    for (const [, s] of resources(dev, 'AWS::Glue::Schema')) expect(s.DeletionPolicy).toBe('Delete');
    const prod = events({ stage: 'prod' });
    for (const [, s] of resources(prod, 'AWS::Glue::Schema')) expect(s.DeletionPolicy).toBe('Retain');
    events({ stage: 'prod', destroyOnRemoval: 'true' }).hasResource('AWS::Glue::Registry', {
      DeletionPolicy: 'Delete',
    });
  });

  it('registers later versions of a contract in order, and hands the functions the current version id', () => {
    const v1 = JSON.stringify({ ...contractSchemas.user_login, description: 'first' });
    const v2 = JSON.stringify({ ...contractSchemas.user_login, description: 'second' });
    const t = events(
      {},
      {
        schemaHistory: (name) =>
          name === 'user_login' ? [v1, v2, schemaDefinition(name)] : [schemaDefinition(name)],
      },
    );
    t.hasResourceProperties('AWS::Glue::Schema', { Name: 'user_login', SchemaDefinition: v1 });
    const versions = resources(t, 'AWS::Glue::SchemaVersion');
    expect(versions.map(([, v]) => v.Properties.SchemaDefinition)).toEqual([
      v2,
      schemaDefinition('user_login'),
    ]);
    const [[v2Id], [v3Id, v3]] = versions as [[string, Resource], [string, Resource]];
    expect(v3.DependsOn).toContain(v2Id);
    const env = functionNamed(t, 'dev-user-consumer').fn.Properties.Environment.Variables;
    expect(JSON.parse(render(env.SCHEMA_VERSION_IDS)).user_login).toBe(`<${v3Id}.VersionId>`);
  });

  it('refuses a history whose last definition is not the current contract', () => {
    expect(() => events({}, { schemaHistory: () => ['{"type":"object"}'] })).toThrow(
      /last registered definition of contract "\w+" is not its current definition/,
    );
  });
});

describe.each(consumers.map((c) => [c.name, c] as const))('consumer %s', (name, spec: ConsumerSpec) => {
  const { id, fn, roleId } = functionNamed(dev, `dev-${name}`);
  const mappings = resources(dev, 'AWS::Lambda::EventSourceMapping').filter(
    ([, m]) => m.Properties.FunctionName.Ref === id,
  );

  it('runs its entry file’s exported handler on Node.js 24, arm64, sized by the topology, in the VPC', () => {
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: spec.timeoutSeconds,
      MemorySize: spec.memoryMb,
      TracingConfig: { Mode: 'Active' },
    });
    const source = readFileSync(new URL(`../../${spec.entry}`, import.meta.url), 'utf8');
    expect(source).toMatch(/export\s+(const|function|async\s+function)\s+handler\b/);
    expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(3);
    expect(render(fn.Properties.VpcConfig.SecurityGroupIds[0])).toMatch(/ConsumerSecurityGroup/);
    expect(fn.Properties.LoggingConfig.LogGroup.Ref).toMatch(/Logs/);
    const logGroup = dev.findResources('AWS::Logs::LogGroup')[fn.Properties.LoggingConfig.LogGroup.Ref];
    expect(logGroup?.Properties.RetentionInDays).toBe(7);
  });

  it('loads Powertools Tracer only when the tracer setting is on', () => {
    const traced = resources(events({ tracer: 'true' }), 'AWS::Lambda::Function').filter(
      ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
    );
    expect(traced.length).toBeGreaterThan(0);
    for (const [, f] of traced)
      expect(f.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('true');
  });

  it('is configured through its environment: brokers from the deploy-time lookup, IAM auth, Powertools, schema ids', () => {
    const env = fn.Properties.Environment.Variables;
    expect(env).toMatchObject({
      KAFKA_AUTH: 'iam',
      POWERTOOLS_SERVICE_NAME: name,
      POWERTOOLS_METRICS_NAMESPACE: 'MskServerlessEvents',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_TRACE_ENABLED: 'false',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(env.KAFKA_BROKERS).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^BootstrapBrokersLookup/), 'BootstrapBrokerStringSaslIam'],
    });
    const ids = JSON.parse(render(env.SCHEMA_VERSION_IDS)) as Record<string, string>;
    expect(Object.keys(ids)).toEqual(contractsOfConsumer(spec, topics));
    for (const [contract, versionId] of Object.entries(ids))
      expect(versionId).toMatch(
        new RegExp(`^<SchemaRegistrySchema${contract.replace(/_/g, '')}\\w+\\.InitialSchemaVersionId>$`),
      );
  });

  it('is fed by one MSK event-source mapping with the topology’s settings', () => {
    expect(mappings).toHaveLength(1);
    const [[, mapping]] = mappings as [[string, Resource]];
    const m = spec.mapping;
    expect(mapping.Properties).toEqual({
      FunctionName: { Ref: id },
      EventSourceArn: { 'Fn::ImportValue': expect.stringMatching(/^dev-kafka:.*KafkaCluster/) },
      Topics: [spec.sourceTopic],
      StartingPosition: m.startingPosition.type,
      BatchSize: m.batchSize,
      MaximumBatchingWindowInSeconds: m.maximumBatchingWindowSeconds,
      MaximumRetryAttempts: m.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: m.maximumRecordAgeSeconds,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: `kafka://${spec.sourceTopic}.dlq` } },
      FilterCriteria: { Filters: m.filters.map((f) => ({ Pattern: JSON.stringify(f.pattern) })) },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 1 },
      AmazonManagedKafkaEventSourceConfig: {
        ConsumerGroupId: m.consumerGroupId,
        SchemaRegistryConfig: {
          SchemaRegistryURI: { 'Fn::GetAtt': [expect.stringMatching(/^SchemaRegistry/), 'Arn'] },
          EventRecordFormat: 'JSON',
          SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
        },
      },
      LoggingConfig: { SystemLogLevel: 'WARN' },
      // Every metric group, in every stage: the alarms read them.
      MetricsConfig: { Metrics: ['EventCount', 'ErrorCount', 'KafkaMetrics'] },
    });
  });

  it('reads its source topic as its consumer group, and writes only its derived topics and dead-letter topic', () => {
    const grants = kafkaGrants(dev, roleId);
    expect([...grants.keys()].sort()).toEqual([
      'kafka-cluster:AlterGroup',
      'kafka-cluster:Connect',
      'kafka-cluster:DescribeClusterDynamicConfiguration',
      'kafka-cluster:DescribeGroup',
      'kafka-cluster:DescribeTopic',
      'kafka-cluster:ReadData',
      'kafka-cluster:WriteData',
      'kafka-cluster:WriteDataIdempotently',
    ]);
    expect(grants.get('kafka-cluster:ReadData')).toEqual([topicArn(spec.sourceTopic)]);
    expect(grants.get('kafka-cluster:WriteData')).toEqual(topicsWrittenBy(spec).sort().map(topicArn));
    expect(grants.get('kafka-cluster:WriteData')).not.toContainEqual(topicArn(spec.sourceTopic));
    expect(grants.get('kafka-cluster:AlterGroup')).toEqual([
      expect.stringMatching(new RegExp(`:group/dev-events/<cluster-uuid>/${spec.mapping.consumerGroupId}$`)),
    ]);
    for (const action of ['Connect', 'WriteDataIdempotently', 'DescribeClusterDynamicConfiguration'])
      expect(grants.get(`kafka-cluster:${action}`)).toEqual(
        list(grants.get(`kafka-cluster:${action}`)).map(() => clusterArn),
      );
  });

  it('replaces AWSLambdaMSKExecutionRole with statements scoped to this cluster, registry and log group', () => {
    const [, role] = resources(dev, 'AWS::IAM::Role').find(([rid]) => rid === roleId) as [string, Resource];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = statementsOfRole(dev, roleId);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid) as Statement;
    // DescribeClusterV2 alone (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html asks
    // for one of DescribeCluster and DescribeClusterV2); GetBootstrapBrokers has no resource type, so "*".
    expect(list(bySid('MskMappingDescribeCluster').Action)).toEqual(['kafka:DescribeClusterV2']);
    expect(list(bySid('MskMappingDescribeCluster').Resource).map(render)).toEqual([clusterArn]);
    expect(bySid('MskMappingBootstrapBrokers')).toMatchObject({
      Action: 'kafka:GetBootstrapBrokers',
      Resource: '*',
    });
    expect(statements.flatMap((s) => list(s.Action))).not.toContain('kafka:DescribeCluster');
    expect(list(bySid('GlueReadRegistry').Action)).toEqual(['glue:GetRegistry']);
    expect(list(bySid('GlueReadSchemaVersions').Resource).map(render)).toEqual([
      expect.stringMatching(/^<SchemaRegistry\w+\.Arn>$/),
      expect.stringMatching(/:glue:.*:schema\/dev-events\/\*$/),
    ]);
    expect(list(bySid('WriteOwnLogs').Resource).map(render)).toEqual([
      expect.stringMatching(/^<\w*Logs\w*\.Arn>$/),
    ]);
  });
});

describe('IAM of the whole application', () => {
  const everyStatement = resources(dev, 'AWS::IAM::Role').flatMap(([roleId]) =>
    statementsOfRole(dev, roleId),
  );

  it('grants no Kafka, MSK or Glue action on "*" but GetBootstrapBrokers, and no wildcard action at all', () => {
    expect(everyStatement.length).toBeGreaterThan(0);
    for (const s of everyStatement) {
      for (const action of list(s.Action)) {
        expect(action, 'no wildcard actions').not.toContain('*');
        // kafka:GetBootstrapBrokers has no resource type (cdk-iam-reference.test.ts): "*" is its only resource.
        if (/^(kafka-cluster|kafka|glue):/.test(action) && action !== 'kafka:GetBootstrapBrokers')
          expect(list(s.Resource).map(render), `${action} is scoped`).not.toContain('*');
      }
    }
  });

  it('attaches no AWS-managed policy to a function role', () => {
    const functionRoles = resources(dev, 'AWS::Lambda::Function').map(
      ([, f]) => f.Properties.Role['Fn::GetAtt'][0],
    );
    for (const [rid, role] of resources(dev, 'AWS::IAM::Role')) {
      if (functionRoles.includes(rid)) expect(role.Properties.ManagedPolicyArns, rid).toBeUndefined();
    }
    expect(JSON.stringify(dev.toJSON())).not.toContain('AWSLambdaMSKExecutionRole');
  });

  it('lets the bootstrap-broker lookup call GetBootstrapBrokers (on "*", it has no resource type) and nothing else in Kafka', () => {
    const lookupStatements = resources(dev, 'AWS::IAM::Policy')
      .filter(([pid]) => pid.startsWith('BootstrapBrokers'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(lookupStatements.map((s) => [s.Action, render(s.Resource)])).toEqual([
      ['kafka:GetBootstrapBrokers', '*'],
    ]);
  });
});

describe('producer API', () => {
  const { id: producerId, fn: producer, roleId: producerRole } = functionNamed(dev, 'dev-producer');

  it('runs the producer handler on Node.js 24, arm64, in the VPC, with the stream contracts’ version ids', () => {
    expect(producer.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { KAFKA_AUTH: 'iam', POWERTOOLS_SERVICE_NAME: 'producer' } },
    });
    expect(producer.Properties.Timeout).toBeLessThan(29);
    expect(readFileSync(new URL('../../lambdas/producer/handler.ts', import.meta.url), 'utf8')).toMatch(
      /export\s+(const|function|async\s+function)\s+handler\b/,
    );
    expect(render(producer.Properties.VpcConfig.SecurityGroupIds[0])).toMatch(/ProducerSecurityGroup/);
    const ids = JSON.parse(render(producer.Properties.Environment.Variables.SCHEMA_VERSION_IDS));
    expect(Object.keys(ids)).toEqual(contractsOfProducer(defaultTopology));
  });

  it('may write the streams’ topics idempotently, and read nothing', () => {
    const grants = kafkaGrants(dev, producerRole);
    expect([...grants.keys()].sort()).toEqual([
      'kafka-cluster:Connect',
      'kafka-cluster:DescribeTopic',
      'kafka-cluster:WriteData',
      'kafka-cluster:WriteDataIdempotently',
    ]);
    expect(grants.get('kafka-cluster:WriteData')).toEqual(
      [...new Set(streams.map((s) => s.topic))].sort().map(topicArn),
    );
  });

  /** `METHOD /path` of every method, the paths rebuilt from the resources' path parts. */
  function routes(t: Template): string[] {
    const res = Object.fromEntries(resources(t, 'AWS::ApiGateway::Resource'));
    const path = (ref: unknown): string => {
      const r = ref as Record<string, Cfn>;
      if (r['Fn::GetAtt']) return '';
      const node = res[r.Ref] as Resource;
      return `${path(node.Properties.ParentId)}/${node.Properties.PathPart}`;
    };
    return resources(t, 'AWS::ApiGateway::Method')
      .map(([, m]) => `${m.Properties.HttpMethod} ${path(m.Properties.ResourceId)}`)
      .sort();
  }

  it('serves POST /events/{stream} and POST /events/{stream}/batch through a Lambda proxy, with SigV4', () => {
    expect(routes(dev)).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const eventMethods = resources(dev, 'AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod === 'POST',
    );
    expect(eventMethods).toHaveLength(2);
    for (const [, m] of eventMethods) {
      expect(m.Properties).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        ApiKeyRequired: false,
        RequestParameters: { 'method.request.path.stream': true, 'method.request.header.Content-Type': true },
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
      expect(render(m.Properties.Integration.Uri)).toContain(`<${producerId}.Arn>`);
    }
    dev.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestParameters: true,
      ValidateRequestBody: false,
    });
  });

  // The OpenAPI document gives each stream its own path (so each lists the event types its stream
  // accepts); API Gateway serves them all through the {stream} path parameter.
  it('serves exactly the routes of the OpenAPI document, one per stream', () => {
    const { paths } = buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((k) => ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'].includes(k))
          .map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    const served = routes(dev)
      .flatMap((route) =>
        route.includes('{stream}') ? streams.map((s) => route.replace('{stream}', s.name)) : [route],
      )
      .sort();
    expect(served).toEqual(documented);
  });

  it('answers the requests it refuses itself in the producer’s error shape', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      dev.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseTemplates: {
          'application/json':
            '{"error":"$context.error.responseType","message":$context.error.messageString,"requestId":"$context.requestId"}',
        },
      });
    }
  });

  it('throttles, logs access as JSON, logs errors without bodies, and traces with X-Ray', () => {
    const [[, stage]] = resources(dev, 'AWS::ApiGateway::Stage') as [[string, Resource]];
    expect(stage.Properties).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        },
      ],
    });
    expect(() => JSON.parse(stage.Properties.AccessLogSetting.Format)).not.toThrow();
    const prodStage = resources(events({ stage: 'prod' }), 'AWS::ApiGateway::Stage')[0] as [string, Resource];
    expect(prodStage[1].Properties.MethodSettings[0]).toMatchObject({
      ThrottlingRateLimit: 500,
      ThrottlingBurstLimit: 1000,
    });
  });

  it('takes an API key with a usage plan instead, when configured', () => {
    const t = events({ apiAuth: 'apiKey' });
    for (const [, m] of resources(t, 'AWS::ApiGateway::Method'))
      expect(m.Properties).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 10, BurstLimit: 20 },
      Quota: { Limit: 10000, Period: 'DAY' },
    });
    t.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    t.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('takes Cognito user pool tokens instead, when configured', () => {
    const pool = 'arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbCdEf123';
    const t = events({ apiAuth: 'cognito', cognitoUserPoolArn: pool });
    t.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [pool],
    });
    for (const [, m] of resources(t, 'AWS::ApiGateway::Method'))
      expect(m.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
  });
});

describe('observability', () => {
  const alarms = resources(dev, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const alarmNamed = (name: string) => alarms.find((a) => a.AlarmName === name) as Record<string, Cfn>;

  it('alarms when a mapping lags, for any dead-lettered record, on any function error and on the API 5xx rate', () => {
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual(
      [
        ...consumers.flatMap((c) => [
          `dev-${c.name}-lag`,
          `dev-${c.name}-dead-letters`,
          `dev-${c.name}-mapping-dead-letters`,
          `dev-${c.name}-records-dropped`,
          `dev-${c.name}-mapping-errors`,
          `dev-${c.name}-not-polling`,
          `dev-${c.name}-errors`,
        ]),
        // The analytics consumer: per function (lag, dead letters, errors), and per mapping.
        'dev-analytics-lag',
        'dev-analytics-dead-letters',
        'dev-analytics-errors',
        ...analytics.sources.flatMap((s) => [
          `dev-analytics-${s.topic}-mapping-dead-letters`,
          `dev-analytics-${s.topic}-records-dropped`,
          `dev-analytics-${s.topic}-mapping-errors`,
          `dev-analytics-${s.topic}-not-polling`,
        ]),
        'dev-analytics-api-errors',
        'dev-producer-errors',
        'dev-api-5xx-rate',
      ].sort(),
    );
    for (const c of consumers) {
      const lag = alarmNamed(`dev-${c.name}-lag`);
      expect(lag).toMatchObject({ Threshold: 1000, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
      expect(lag.Metrics[0].MetricStat).toMatchObject({
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'OffsetLag',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionNamed(dev, `dev-${c.name}`).id } }],
        },
        Stat: 'Maximum',
      });
      const deadLetters = alarmNamed(`dev-${c.name}-dead-letters`);
      expect(deadLetters).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(deadLetters.Metrics[0].Expression).toBe(
        `SELECT SUM(RecordsDeadLettered) FROM "MskServerlessEvents" WHERE service = '${c.name}'`,
      );
    }
    expect(alarmNamed('dev-api-5xx-rate')).toMatchObject({ Threshold: 1 });
    for (const a of alarms) expect(a.AlarmActions).toBeUndefined();
  });

  describe.each(['dev', 'prod'])('%s: the mapping’s own metrics', (stage) => {
    const t = stage === 'dev' ? dev : events({ stage });
    const stageAlarms = resources(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const named = (name: string) => stageAlarms.find((a) => a.AlarmName === name) as Record<string, Cfn>;

    it.each(consumers.map((c) => [c.name] as const))(
      '%s: alarms on every record the mapping sends to <topic>.dlq or drops, on its errors, and when it stops polling',
      (name) => {
        const { id: functionId } = functionNamed(t, `${stage}-${name}`);
        const [[mappingId, mapping]] = resources(t, 'AWS::Lambda::EventSourceMapping').filter(
          ([, m]) => m.Properties.FunctionName.Ref === functionId,
        ) as [[string, Resource]];
        expect(mapping.Properties.MetricsConfig).toEqual({
          Metrics: ['EventCount', 'ErrorCount', 'KafkaMetrics'],
        });
        const byMapping = [{ Name: 'EventSourceMappingUUID', Value: { Ref: mappingId } }];
        const stat = (metricName: string, statistic = 'Sum') => ({
          Metric: { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: byMapping },
          Period: 300,
          Stat: statistic,
        });
        for (const [alarmName, metricName] of [
          ['mapping-dead-letters', 'OnFailureDestinationDeliveredEventCount'],
          ['records-dropped', 'DroppedEventCount'],
        ] as const) {
          const a = named(`${stage}-${name}-${alarmName}`);
          expect(a, alarmName).toMatchObject({
            Namespace: 'AWS/Lambda',
            MetricName: metricName,
            Dimensions: byMapping,
            Statistic: 'Sum',
            Period: 300,
            Threshold: 0,
            ComparisonOperator: 'GreaterThanThreshold',
            EvaluationPeriods: 1,
            TreatMissingData: 'notBreaching',
          });
        }

        const errors = named(`${stage}-${name}-mapping-errors`);
        expect(errors).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
        const errorMetrics = [
          'PollingErrorCount',
          'InvokeErrorCount',
          'OnFailureDestinationDeliveryErrorCount',
          'SchemaRegistryErrorCount',
          'CommitErrorCount',
        ];
        const [sum, ...inputs] = errors.Metrics as Cfn[];
        expect(sum.Expression).toBe(errorMetrics.map((_, i) => `FILL(e${i}, 0)`).join(' + '));
        expect(inputs.map((m: Cfn) => [m.Id, m.MetricStat])).toEqual(
          errorMetrics.map((m, i) => [`e${i}`, stat(m)]),
        );

        // A mapping that stops polling publishes nothing at all: missing data must breach.
        const polling = named(`${stage}-${name}-not-polling`);
        expect(polling).toMatchObject({
          Threshold: 1,
          ComparisonOperator: 'LessThanThreshold',
          EvaluationPeriods: 3,
          DatapointsToAlarm: 3,
          TreatMissingData: 'breaching',
        });
        const [liveness, ...signals] = polling.Metrics as Cfn[];
        expect(liveness.Expression).toBe('FILL(polls, 0) + FILL(lags, 0)');
        expect(Object.fromEntries(signals.map((m: Cfn) => [m.Id, m.MetricStat]))).toStrictEqual({
          polls: stat('PolledEventCount', 'SampleCount'),
          lags: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'OffsetLag',
              Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
            },
            Period: 300,
            Stat: 'SampleCount',
          },
        });
      },
    );
  });

  it('sends alarms to a new, encrypted topic for an e-mail address, or to an existing topic', () => {
    const withEmail = events({ alarmEmail: 'ops@example.com' });
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    withEmail.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmTopicKey'), 'Arn'] },
    });
    for (const [, a] of resources(withEmail, 'AWS::CloudWatch::Alarm'))
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/AlarmTopic/) }]);

    const topicArn = 'arn:aws:sns:eu-west-1:111122223333:ops-alarms';
    const existing = events({ alarmTopicArn: topicArn });
    existing.resourceCountIs('AWS::SNS::Topic', 0);
    for (const [, a] of resources(existing, 'AWS::CloudWatch::Alarm'))
      expect(a.Properties.AlarmActions).toEqual([topicArn]);
  });

  it('graphs the API, offset lag per mapping, function health, dead letters and derived events', () => {
    const [[, dashboard]] = resources(dev, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
    const body = render(dashboard.Properties.DashboardBody);
    for (const title of [
      'API requests',
      'API 4xx and 5xx',
      'API latency p99 (ms)',
      'Offset lag per function (records, max)',
      'Function errors',
      'Function throttles',
      'Function duration p99 (ms)',
      'Dead-lettered records',
      'Derived events emitted',
      'Mapping: records sent to <topic>.dlq, and dropped',
    ])
      expect(body).toContain(`"title":"${title}"`);
    // One lag line per function: the analytics consumer's is the largest of its three mappings'.
    expect(body.match(/"OffsetLag"/g)).toHaveLength(consumers.length + 1);
    for (const service of [...consumers.map((c) => c.name), 'analytics'])
      expect(body).toContain(`MetricName=\\"RecordsDeadLettered\\" service=\\"${service}\\"`);
    expect(body.match(/"OnFailureDestinationDeliveredEventCount","EventSourceMappingUUID"/g)).toHaveLength(
      consumers.length + analytics.sources.length,
    );
  });
});

describe('bad input', () => {
  it('refuses a function environment over Lambda’s 4 KB, counting deploy-time values at their upper bound', () => {
    const ids = { SCHEMA_VERSION_IDS: Lazy.string({ produce: () => '{}' }) };
    expect(assertEnvironmentFits('f', { A: 'x' }, {})).toBe(2);
    expect(() => assertEnvironmentFits('f', ids, {})).toThrow('no size estimate');
    expect(() =>
      assertEnvironmentFits('f', ids, { SCHEMA_VERSION_IDS: LAMBDA_ENVIRONMENT_LIMIT_BYTES }),
    ).toThrow(/f: its environment would take about 4114 bytes, over Lambda's 4096-byte limit/);
  });

  it('refuses to synthesize a topology with a zero-partition topic, naming the topic', () => {
    const broken = {
      ...defaultTopology,
      topics: defaultTopology.topics.map((t) => (t.name === 'email-events' ? { ...t, partitions: 0 } : t)),
    };
    expect(() => events({}, { topology: broken })).toThrow(TopologyError);
    expect(() => events({}, { topology: broken })).toThrow('topic "email-events": partitions must be 1–1000');
  });

  it('refuses more minimum than maximum pollers in a consumer of the topology', () => {
    const broken = {
      ...defaultTopology,
      consumers: defaultTopology.consumers.map((c) =>
        c.name === 'user-consumer'
          ? { ...c, mapping: { ...c.mapping, provisionedPollers: { minimum: 5, maximum: 2 } } }
          : c,
      ),
    };
    expect(() => events({ stage: 'prod' }, { topology: broken })).toThrow(
      'consumer "user-consumer": provisioned pollers must be minimum 1–200, maximum 1–2,000, minimum ≤ maximum',
    );
  });

  it('gives prod the topology’s pollers, and every mapping the configured ones when set', () => {
    const pollers = (t: Template) =>
      resources(t, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties.ProvisionedPollerConfig);
    const mappings = [...consumers.map((c) => c.mapping), ...analytics.sources.map((s) => s.mapping)];
    expect(pollers(events({ stage: 'prod' }))).toEqual(
      mappings.map((m) => ({
        MinimumPollers: m.provisionedPollers.minimum,
        MaximumPollers: m.provisionedPollers.maximum,
      })),
    );
    expect(pollers(events({ minPollers: '2', maxPollers: '5' }))).toEqual(
      mappings.map(() => ({ MinimumPollers: 2, MaximumPollers: 5 })),
    );
  });
});
