/**
 * The platform stack (`<stage>-kafka`): network, MSK cluster and topics, as synthesized for each
 * configuration that changes them. Bundling is skipped: nothing here is a function.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { topicConfig, topicForCluster, topics } from '../../core/topology';
import { loadConfig } from '../../lib/config';
import { decodeTopicConfigs } from '../../lib/constructs/topics';
import { addDeployment } from '../../lib/stacks/app';

const flags = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** The platform template of the deployment `context` configures. */
function platform(context: Record<string, unknown> = {}): Template {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...flags, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const config = loadConfig((k) => app.node.tryGetContext(k), {});
  return Template.fromStack(addDeployment(app, config, { nag: false }).platform);
}

/** CloudFormation template JSON, untyped by nature: the assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Cfn = any;
type Resource = { Type: string; Properties: Record<string, Cfn>; DeletionPolicy?: string };
const resources = (t: Template, type: string): [string, Resource][] =>
  Object.entries(t.findResources(type) as Record<string, Resource>);

const dev = platform();
const prod = platform({ stage: 'prod' });

describe('network', () => {
  it('spreads three private subnets over three Availability Zones, with no route to the internet', () => {
    const subnets = resources(dev, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(3);
    expect(subnets.map(([, s]) => s.Properties.AvailabilityZone)).toEqual(
      [0, 1, 2].map((i) => ({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] })),
    );
    for (const [, s] of subnets) expect(s.Properties.MapPublicIpOnLaunch).toBe(false);
    dev.resourceCountIs('AWS::EC2::NatGateway', 0);
    dev.resourceCountIs('AWS::EC2::InternetGateway', 0);
  });

  it('uses the Availability Zones it is told to', () => {
    const named = platform({ availabilityZones: 'eu-west-1a,eu-west-1b,eu-west-1c' });
    expect(resources(named, 'AWS::EC2::Subnet').map(([, s]) => s.Properties.AvailabilityZone)).toEqual([
      'eu-west-1a',
      'eu-west-1b',
      'eu-west-1c',
    ]);
  });

  it('gives the event-source mappings interface endpoints for Lambda and STS when asked, reachable from them only', () => {
    const withEndpoints = platform({ interfaceEndpoints: 'true' });
    // Besides the DynamoDB gateway endpoint every deployment has (the analytics table).
    const endpoints = resources(withEndpoints, 'AWS::EC2::VPCEndpoint').filter(
      ([, e]) => e.Properties.VpcEndpointType === 'Interface',
    );
    expect(endpoints.map(([, e]) => JSON.stringify(e.Properties.ServiceName)).sort()).toEqual([
      expect.stringMatching(/\.lambda"?/),
      expect.stringMatching(/\.sts"?/),
    ]);
    for (const [, e] of endpoints) {
      expect(e.Properties.VpcEndpointType).toBe('Interface');
      expect(e.Properties.PrivateDnsEnabled).toBe(true);
    }
    withEndpoints.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('MappingSecurityGroup'), 'GroupId'] },
    });
  });

  it('adds NAT gateways only when asked to', () => {
    const nat = platform({ natGateways: '1', interfaceEndpoints: 'false' });
    nat.resourceCountIs('AWS::EC2::NatGateway', 1);
    // Only the DynamoDB gateway endpoint (free, for the analytics table): no interface endpoint.
    expect(resources(nat, 'AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties.VpcEndpointType)).toEqual([
      'Gateway',
    ]);
  });

  it('lets the brokers accept 9098 from the function and mapping security groups and nothing else', () => {
    const groupIds = Object.fromEntries(
      resources(dev, 'AWS::EC2::SecurityGroup').map(([id, g]) => [
        id,
        g.Properties.GroupDescription as string,
      ]),
    );
    const broker = Object.keys(groupIds).find((id) => id.includes('BrokerSecurityGroup')) as string;
    const ingress = resources(dev, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, r]) => r.Properties.GroupId['Fn::GetAtt'][0] === broker,
    );
    expect(
      ingress.map(([, r]) => [r.Properties.IpProtocol, r.Properties.FromPort, r.Properties.ToPort]),
    ).toEqual([
      ['tcp', 9098, 9098],
      ['tcp', 9098, 9098],
      ['tcp', 9098, 9098],
    ]);
    expect(ingress.map(([, r]) => r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^NetworkConsumerSecurityGroup/),
      expect.stringMatching(/^NetworkMappingSecurityGroup/),
      expect.stringMatching(/^NetworkProducerSecurityGroup/),
    ]);
    // No security group takes traffic from an address range, and none opens anything but 9098 and 443.
    const allIngress = [
      ...resources(dev, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
      ...resources(dev, 'AWS::EC2::SecurityGroup').flatMap(
        ([, g]) => g.Properties.SecurityGroupIngress ?? [],
      ),
    ];
    for (const rule of allIngress) {
      expect(rule.CidrIp).toBeUndefined();
      expect(rule.CidrIpv6).toBeUndefined();
      expect([443, 9098]).toContain(rule.FromPort);
    }
  });

  it('records rejected flows', () => {
    dev.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', ResourceType: 'VPC' });
  });
});

describe('MSK cluster', () => {
  it('authenticates with IAM only, encrypts in transit (client–broker and in-cluster) and at rest with its own key', () => {
    const [[, cluster]] = resources(dev, 'AWS::MSK::Cluster') as [[string, Resource]];
    expect(cluster.Properties.ClientAuthentication).toEqual({
      Sasl: { Iam: { Enabled: true } },
      Unauthenticated: { Enabled: false },
    });
    expect(cluster.Properties.EncryptionInfo.EncryptionInTransit).toEqual({
      ClientBroker: 'TLS',
      InCluster: true,
    });
    const keyRef = cluster.Properties.EncryptionInfo.EncryptionAtRest.DataVolumeKMSKeyId['Fn::GetAtt'];
    expect(keyRef[1]).toBe('Arn');
    dev.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Delete',
    });
    expect(Object.keys(dev.findResources('AWS::KMS::Key'))).toContain(keyRef[0]);
    prod.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  it('runs three brokers in the private subnets with both broker security groups, and logs to CloudWatch', () => {
    const [[, cluster]] = resources(dev, 'AWS::MSK::Cluster') as [[string, Resource]];
    const p = cluster.Properties;
    expect(p.NumberOfBrokerNodes).toBe(3);
    expect(p.ClusterName).toBe('dev-events');
    expect(p.BrokerNodeGroupInfo.ClientSubnets).toHaveLength(3);
    expect(p.BrokerNodeGroupInfo.SecurityGroups.map((g: Cfn) => g['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^NetworkBrokerSecurityGroup/),
      expect.stringMatching(/^NetworkMappingSecurityGroup/),
    ]);
    expect(p.LoggingInfo.BrokerLogs.CloudWatchLogs.Enabled).toBe(true);
    const logGroup = p.LoggingInfo.BrokerLogs.CloudWatchLogs.LogGroup.Ref;
    expect(dev.findResources('AWS::Logs::LogGroup')[logGroup]?.Properties.RetentionInDays).toBe(7);
  });

  it('sizes the brokers per stage, with Kafka 3.6 or later', () => {
    const props = (t: Template) => (resources(t, 'AWS::MSK::Cluster')[0] as [string, Resource])[1].Properties;
    expect(props(dev)).toMatchObject({
      KafkaVersion: '3.8.x',
      BrokerNodeGroupInfo: {
        InstanceType: 'kafka.t3.small',
        StorageInfo: { EBSStorageInfo: { VolumeSize: 10 } },
      },
      EnhancedMonitoring: 'DEFAULT',
    });
    expect(props(prod)).toMatchObject({
      BrokerNodeGroupInfo: {
        InstanceType: 'kafka.m7g.large',
        StorageInfo: { EBSStorageInfo: { VolumeSize: 100 } },
      },
      EnhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
    });
  });

  it('forbids topic auto-creation and keeps three replicas with two in sync', () => {
    dev.hasResourceProperties('AWS::MSK::Configuration', {
      ServerProperties:
        'auto.create.topics.enable=false\ndefault.replication.factor=3\nmin.insync.replicas=2\n',
    });
    dev.hasResourceProperties('AWS::MSK::Cluster', {
      ConfigurationInfo: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('KafkaConfiguration'), 'Arn'] },
        Revision: { 'Fn::GetAtt': [Match.stringLikeRegexp('KafkaConfiguration'), 'LatestRevision.Revision'] },
      },
    });
  });

  it('runs Express brokers when asked, setting only what Express lets a customer set', () => {
    const express = platform({ brokerType: 'express' });
    const [[, cluster]] = resources(express, 'AWS::MSK::Cluster') as [[string, Resource]];
    expect(cluster.Properties.BrokerNodeGroupInfo.InstanceType).toBe('express.m7g.large');
    expect(cluster.Properties.BrokerNodeGroupInfo.StorageInfo).toBeUndefined();
    express.hasResourceProperties('AWS::MSK::Configuration', {
      ServerProperties: 'auto.create.topics.enable=false\n',
    });
    for (const [, t] of resources(express, 'AWS::MSK::Topic'))
      expect(decodeTopicConfigs(t.Properties.Configs)).not.toHaveProperty('min.insync.replicas');
  });

  it('is guarded by termination protection in prod', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { ...flags, 'aws:cdk:bundling-stacks': [] },
    });
    const d = addDeployment(
      app,
      loadConfig(() => undefined, {}),
      { nag: false },
    );
    expect(d.platform.terminationProtection).toBe(false);
    const prodApp = new App({
      builtinCloudFormationValidation: false,
      context: { ...flags, 'aws:cdk:bundling-stacks': [], stage: 'prod' },
    });
    const p = addDeployment(
      prodApp,
      loadConfig((k) => prodApp.node.tryGetContext(k), {}),
      { nag: false },
    );
    expect([p.platform.terminationProtection, p.events.terminationProtection]).toEqual([true, true]);
  });
});

describe('topics', () => {
  it('are the topology’s topics, as native AWS::MSK::Topic resources with its partitions and replication', () => {
    const deployed = resources(dev, 'AWS::MSK::Topic').map(([, t]) => t.Properties);
    expect(deployed.map((t) => t.TopicName).sort()).toEqual(topics.map((t) => t.name).sort());
    for (const spec of topics) {
      const t = deployed.find((d) => d.TopicName === spec.name);
      expect(t).toMatchObject({
        PartitionCount: spec.partitions,
        ReplicationFactor: spec.replicationFactor,
        ClusterArn: { 'Fn::GetAtt': [expect.stringMatching(/^KafkaCluster/), 'Arn'] },
      });
    }
  });

  it('carry the topology’s configuration, Base64-encoded JSON as CloudFormation expects', () => {
    for (const [, t] of resources(dev, 'AWS::MSK::Topic')) {
      const spec = topics.find((s) => s.name === t.Properties.TopicName);
      if (!spec) throw new Error(`unexpected topic ${t.Properties.TopicName}`);
      expect(t.Properties.Configs).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(decodeTopicConfigs(t.Properties.Configs)).toEqual(topicConfig(topicForCluster(spec, 3)));
    }
  });

  it('keep dead letters longer than the events they hold', () => {
    const retention = (name: string) => {
      const [, t] = resources(dev, 'AWS::MSK::Topic').find(([, r]) => r.Properties.TopicName === name) as [
        string,
        Resource,
      ];
      return Number(decodeTopicConfigs(t.Properties.Configs)['retention.ms']);
    };
    for (const source of ['user-events', 'order-events', 'payment-events'])
      expect(retention(`${source}.dlq`)).toBeGreaterThan(retention(source));
  });

  it('are retained when the stack is deleted in prod, deleted in dev, unless told otherwise', () => {
    for (const [, t] of resources(prod, 'AWS::MSK::Topic')) expect(t.DeletionPolicy).toBe('Retain');
    for (const [, t] of resources(dev, 'AWS::MSK::Topic')) expect(t.DeletionPolicy).toBe('Delete');
    const kept = platform({ destroyOnRemoval: 'false' });
    for (const [, t] of resources(kept, 'AWS::MSK::Topic')) expect(t.DeletionPolicy).toBe('Retain');
    const destroyed = platform({ stage: 'prod', destroyOnRemoval: 'true' });
    for (const [, t] of resources(destroyed, 'AWS::MSK::Topic')) expect(t.DeletionPolicy).toBe('Delete');
    destroyed.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });
});
