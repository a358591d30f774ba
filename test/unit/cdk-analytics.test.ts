/**
 * The analytics service on AWS: its DynamoDB table, the gateway endpoint the functions reach it
 * through, the consumer with one MSK event-source mapping per source topic, the read-only function
 * behind `GET /analytics/daily`, and the IAM of each. Bundling is skipped: templates only.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { FUNCTION_ENV } from '../../core/env';
import { analytics } from '../../core/topology';
import { loadConfig } from '../../lib/config';
import { addDeployment } from '../../lib/stacks/app';
import { defaultTopology } from '../../lib/stacks/shared';

const flags = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** CloudFormation template JSON, untyped by nature. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Cfn = any;
type Template = { Resources: Record<string, Cfn> };

function synth(context: Record<string, unknown> = {}): { kafka: Template; events: Template } {
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

const ofType = (t: Template, type: string): [string, Cfn][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
/** The one element of `xs`, or an error saying how many there are. */
function only<T>(xs: readonly T[], what: string): T {
  if (xs.length !== 1) throw new Error(`expected one ${what}, found ${xs.length}`);
  return xs[0] as T;
}

/** A CloudFormation value as text (see cdk-events.test.ts). */
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

function functionNamed(t: Template, name: string): { id: string; fn: Cfn; roleId: string } {
  const found = ofType(t, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === name);
  if (!found) throw new Error(`no function named ${name}`);
  const [id, fn] = found;
  return { id, fn, roleId: fn.Properties.Role['Fn::GetAtt'][0] };
}

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Cfn;
}
function statementsOfRole(t: Template, roleId: string): Statement[] {
  const role = t.Resources[roleId];
  const inline = (role.Properties.Policies ?? []).flatMap((p: Cfn) => p.PolicyDocument.Statement);
  const attached = ofType(t, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles ?? []).some((r: Cfn) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  return [...inline, ...attached];
}

/** Resources (rendered) each action of `service` is allowed on, for one role. */
function grants(t: Template, roleId: string, service: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of statementsOfRole(t, roleId))
    for (const action of list(s.Action))
      if (action.startsWith(`${service}:`))
        out[action] = [...(out[action] ?? []), ...list(s.Resource).map(render)].sort();
  return out;
}

const dev = synth();
const prod = synth({ stage: 'prod' });
const [tableId, table] = only(ofType(dev.events, 'AWS::DynamoDB::Table'), 'table');
const tableKeyId = table.Properties.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0];
const consumer = functionNamed(dev.events, 'dev-analytics');
const api = functionNamed(dev.events, 'dev-analytics-api');

describe('the analytics table', () => {
  it('is one on-demand table keyed pk/sk, with point-in-time recovery and TTL on expiresAt, and no fixed name', () => {
    expect(ofType(dev.events, 'AWS::DynamoDB::Table')).toHaveLength(1);
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    expect(table.Properties.TableName).toBeUndefined();
  });

  it('is encrypted with a customer-managed KMS key of its own, rotated', () => {
    expect(table.Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: { 'Fn::GetAtt': [tableKeyId, 'Arn'] },
    });
    const key = dev.events.Resources[tableKeyId];
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    // Not the log groups' key.
    for (const [, g] of ofType(dev.events, 'AWS::Logs::LogGroup'))
      expect(g.Properties.KmsKeyId?.['Fn::GetAtt']?.[0]).not.toBe(tableKeyId);
  });

  it('has deletion protection and is retained in prod only, unless configured otherwise', () => {
    const [, prodTable] = only(ofType(prod.events, 'AWS::DynamoDB::Table'), 'table');
    const prodKey =
      prod.events.Resources[prodTable.Properties.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0]];
    expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    expect([table.DeletionPolicy, dev.events.Resources[tableKeyId].DeletionPolicy]).toEqual([
      'Delete',
      'Delete',
    ]);
    expect(prodTable.Properties.DeletionProtectionEnabled).toBe(true);
    expect([prodTable.DeletionPolicy, prodKey.DeletionPolicy]).toEqual(['Retain', 'Retain']);
    const [, unprotected] = only(
      ofType(synth({ stage: 'prod', tableDeletionProtection: 'false' }).events, 'AWS::DynamoDB::Table'),
      'table',
    );
    expect(unprotected.Properties.DeletionProtectionEnabled).toBe(false);
  });

  it('gives both functions its name in ANALYTICS_TABLE', () => {
    for (const f of [consumer, api])
      expect(f.fn.Properties.Environment.Variables[FUNCTION_ENV.analyticsTable]).toEqual({ Ref: tableId });
  });
});

describe('the DynamoDB gateway endpoint', () => {
  const endpoints = ofType(dev.kafka, 'AWS::EC2::VPCEndpoint');

  it('routes every private subnet to DynamoDB through one gateway endpoint, for this account’s tables only', () => {
    expect(endpoints).toHaveLength(1);
    const [, endpoint] = only(endpoints, 'endpoint');
    expect(endpoint.Properties.VpcEndpointType).toBe('Gateway');
    expect(render(endpoint.Properties.ServiceName)).toBe('com.amazonaws.<AWS::Region>.dynamodb');
    const subnetRouteTables = ofType(dev.kafka, 'AWS::EC2::SubnetRouteTableAssociation').map(
      ([, a]) => a.Properties.RouteTableId,
    );
    expect(subnetRouteTables).toHaveLength(3);
    expect(endpoint.Properties.RouteTableIds).toEqual(subnetRouteTables);
    const [statement] = endpoint.Properties.PolicyDocument.Statement;
    expect(endpoint.Properties.PolicyDocument.Statement).toHaveLength(1);
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Resource: '*',
      Condition: { StringEquals: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect([...statement.Action].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('lets the analytics functions send HTTPS to DynamoDB’s prefix list, looked up at deploy time, and nothing else', () => {
    const [lookupId, lookup] = only(ofType(dev.events, 'Custom::DynamoDbPrefixList'), 'lookup');
    const call = JSON.parse(render(lookup.Properties.Create));
    expect(call).toMatchObject({
      service: 'EC2',
      action: 'DescribeManagedPrefixLists',
      parameters: {
        Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.<AWS::Region>.dynamodb'] }],
      },
    });
    const groupId = consumer.fn.Properties.VpcConfig.SecurityGroupIds.map(
      (g: Cfn) => g['Fn::GetAtt']?.[0],
    ).find((id: string | undefined) => id?.startsWith('AnalyticsTableClientSecurityGroup'));
    expect(groupId).toBeDefined();
    expect(api.fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [groupId, 'GroupId'] }]);
    // The prefix list id is a deploy-time value, so CDK writes the rule as a resource of its own.
    expect(dev.events.Resources[groupId].Properties.SecurityGroupEgress ?? []).toEqual([]);
    const egress = ofType(dev.events, 'AWS::EC2::SecurityGroupEgress')
      .filter(([, e]) => e.Properties.GroupId['Fn::GetAtt']?.[0] === groupId)
      .map(([, e]) => e.Properties);
    expect(egress).toEqual([
      {
        GroupId: { 'Fn::GetAtt': [groupId, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        DestinationPrefixListId: { 'Fn::GetAtt': [lookupId, 'PrefixLists.0.PrefixListId'] },
        Description: expect.any(String),
      },
    ]);
  });
});

describe('the analytics consumer', () => {
  const mappings = ofType(dev.events, 'AWS::Lambda::EventSourceMapping').filter(
    ([, m]) => m.Properties.FunctionName.Ref === consumer.id,
  );

  it('is one function, fed by one mapping per source topic in its own group, with the consumers’ error controls and no filter', () => {
    expect(analytics.sources.map((s) => s.topic)).toEqual(['user-events', 'order-events', 'payment-events']);
    expect(mappings).toHaveLength(3);
    for (const source of analytics.sources) {
      const found = mappings.find(([, m]) => m.Properties.Topics[0] === source.topic);
      expect(found, source.topic).toBeDefined();
      const p = (found as [string, Cfn])[1].Properties;
      expect(p).toMatchObject({
        Topics: [source.topic],
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `analytics-${source.topic}-v1` },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 21600,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 1 },
        MetricsConfig: { Metrics: ['EventCount', 'ErrorCount', 'KafkaMetrics'] },
      });
      expect(p.DestinationConfig.OnFailure.Destination).toBe(`kafka://${source.topic}.dlq`);
      expect(p.AmazonManagedKafkaEventSourceConfig.SchemaRegistryConfig.EventRecordFormat).toBe('JSON');
      expect(p.FilterCriteria).toBeUndefined();
    }
    expect(consumer.fn.Properties).toMatchObject({
      MemorySize: analytics.memoryMb,
      Timeout: analytics.timeoutSeconds,
    });
  });

  it('reads each source topic as its group and writes only the dead-letter topics', () => {
    const kafka = grants(dev.events, consumer.roleId, 'kafka-cluster');
    const topic = (t: string) =>
      `arn:<AWS::Partition>:kafka:<AWS::Region>:<AWS::AccountId>:topic/dev-events/<cluster-uuid>/${t}`;
    const group = (g: string) =>
      `arn:<AWS::Partition>:kafka:<AWS::Region>:<AWS::AccountId>:group/dev-events/<cluster-uuid>/${g}`;
    const sources = analytics.sources.map((s) => s.topic).sort();
    expect(kafka['kafka-cluster:ReadData']).toEqual(sources.map(topic));
    expect(kafka['kafka-cluster:AlterGroup']).toEqual(sources.map((t) => group(`analytics-${t}-v1`)));
    expect(kafka['kafka-cluster:WriteData']).toEqual(sources.map((t) => topic(`${t}.dlq`)));
    expect(kafka['kafka-cluster:WriteDataIdempotently']).toHaveLength(1);
  });

  it('may put, update and condition-check items of the table only, with its key through DynamoDB', () => {
    const statements = statementsOfRole(dev.events, consumer.roleId);
    const dynamodb = statements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamodb).toEqual([
      {
        Sid: 'AnalyticsTableWrite',
        Effect: 'Allow',
        Action: ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
    ]);
    const kms = statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    expect(kms).toEqual([
      {
        Sid: 'AnalyticsTableKeyWrite',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [tableKeyId, 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      },
    ]);
  });

  it('reads the contracts of its topics and dead letters from its environment', () => {
    const ids = render(consumer.fn.Properties.Environment.Variables.SCHEMA_VERSION_IDS);
    for (const name of ['user_login', 'order_paid', 'payment_refunded', 'dead_letter'])
      expect(ids).toContain(`"${name}"`);
  });
});

describe('the analytics API', () => {
  const methods = ofType(dev.events, 'AWS::ApiGateway::Method').filter(
    ([, m]) => m.Properties.HttpMethod === 'GET',
  );

  it('serves GET /analytics/daily through its own function, with SigV4 and both dates required', () => {
    expect(methods).toHaveLength(1);
    const [, method] = only(methods, 'GET method');
    const resource = dev.events.Resources[method.Properties.ResourceId.Ref];
    expect(resource.Properties.PathPart).toBe('daily');
    expect(dev.events.Resources[resource.Properties.ParentId.Ref].Properties.PathPart).toBe('analytics');
    expect(method.Properties).toMatchObject({
      AuthorizationType: 'AWS_IAM',
      ApiKeyRequired: false,
      RequestParameters: { 'method.request.querystring.from': true, 'method.request.querystring.to': true },
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    expect(render(method.Properties.Integration.Uri)).toContain(`<${api.id}.Arn>`);
    const validator = dev.events.Resources[method.Properties.RequestValidatorId.Ref];
    expect(validator.Properties).toMatchObject({ ValidateRequestParameters: true });
  });

  it('takes the producer routes’ authorization when it is configured otherwise', () => {
    const get = (t: Template) =>
      ofType(t, 'AWS::ApiGateway::Method').find(([, m]) => m.Properties.HttpMethod === 'GET')?.[1].Properties;
    expect(get(synth({ apiAuth: 'apiKey' }).events)).toMatchObject({
      AuthorizationType: 'NONE',
      ApiKeyRequired: true,
    });
    expect(
      get(
        synth({
          apiAuth: 'cognito',
          cognitoUserPoolArn: 'arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_abc',
        }).events,
      ),
    ).toMatchObject({ AuthorizationType: 'COGNITO_USER_POOLS' });
  });

  it('may only read the table, decrypt with its key, and nothing of Kafka', () => {
    const statements = statementsOfRole(dev.events, api.roleId);
    expect(statements.filter((s) => list(s.Action).some((a) => /^(dynamodb|kms):/.test(a)))).toEqual([
      {
        Sid: 'AnalyticsTableRead',
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
      {
        Sid: 'AnalyticsTableKeyRead',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [tableKeyId, 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      },
    ]);
    expect(statements.flatMap((s) => list(s.Action)).filter((a) => /^kafka|^glue/.test(a))).toEqual([]);
    expect(Object.keys(api.fn.Properties.Environment.Variables)).not.toContain(FUNCTION_ENV.brokers);
  });
});

describe('IAM of the analytics functions', () => {
  it('grants no DynamoDB wildcard, and DynamoDB actions on the analytics table only', () => {
    for (const t of [dev.events, prod.events]) {
      for (const [id, role] of ofType(t, 'AWS::IAM::Role')) {
        for (const s of statementsOfRole(t, id)) {
          const actions = list(s.Action).filter((a) => a.startsWith('dynamodb:'));
          if (actions.length === 0) continue;
          for (const a of actions) expect(a, id).not.toMatch(/\*/);
          expect(list(s.Resource).map(render), `${id} ${role.Properties.Description}`).toEqual([
            `<${only(ofType(t, 'AWS::DynamoDB::Table'), 'table')[0]}.Arn>`,
          ]);
        }
      }
    }
  });
});

describe('the analytics topology', () => {
  it('refuses to synthesize analytics reading a topic that does not exist, naming it', () => {
    const [first] = analytics.sources;
    if (!first) throw new Error('no analytics source');
    const broken = {
      ...defaultTopology,
      analytics: {
        ...analytics,
        sources: [
          ...analytics.sources,
          {
            topic: 'nope-events',
            mapping: { ...first.mapping, onFailureTopic: 'nope-events.dlq' },
          },
        ],
      },
    };
    const app = new App({ context: { ...flags, 'aws:cdk:bundling-stacks': [] } });
    expect(() =>
      addDeployment(
        app,
        loadConfig(() => undefined, {}),
        { nag: false, topology: broken },
      ),
    ).toThrow(
      /analytics source "nope-events": no such topic[\s\S]*on-failure topic "nope-events.dlq" does not exist/,
    );
  });
});
