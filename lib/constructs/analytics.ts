/**
 * The analytics service on AWS: its table (analytics-table.ts), the consumer function that counts
 * every event of the source topics into it with one MSK event-source mapping per topic (each in its
 * own consumer group, built as every consumer's: kafka-mapping.ts), and the read-only function behind
 * `GET /analytics/daily` (routed by producer-api.ts).
 *
 * Permissions (each function's role holds only what this construct passes it, event-function.ts):
 * - the consumer: read each source topic as its group and write each `<topic>.dlq` (the handler's
 *   dead letters, and the mappings' on-failure destination,
 *   https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html), read the registry's
 *   schemas (the mappings' Glue validation), what the mappings need of the cluster, and transactional
 *   writes of the table (AnalyticsTable.writeStatements);
 * - the API function: reads of the table (AnalyticsTable.readStatements), nothing of Kafka.
 *
 * Network: both functions run in the private subnets and reach DynamoDB through the VPC's gateway
 * endpoint (network.ts). Their security groups allow no outbound traffic by default, and "The outbound
 * rules for the security group for instances that access DynamoDB through the gateway endpoint must
 * allow traffic to DynamoDB. You can use the prefix list ID for DynamoDB as the destination in the
 * outbound rule" (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-ddb.html): one more
 * group, `TableClientSecurityGroup`, allows HTTPS to that prefix list and nothing else. The prefix
 * list is AWS-managed and its id differs per Region; CloudFormation has no attribute that returns it,
 * so it is looked up at deploy time with EC2 DescribeManagedPrefixLists by its name,
 * `com.amazonaws.<region>.dynamodb`
 * (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeManagedPrefixLists.html), through
 * the stack's AwsCustomResource provider, which the bootstrap-broker lookup creates first.
 */

import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type ISecurityGroup, Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ManagedKafkaEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { functionEntries } from '../../core/bundling';
import { FUNCTION_ENV, kafkaEnvironment } from '../../core/env';
import type { AnalyticsSpec } from '../../core/topology';
import { TARGET_FEATURES } from '../target';
import { AnalyticsTable } from './analytics-table';
import type { KafkaConsumerProps } from './consumer-function';
import { EventFunction } from './event-function';
import {
  kafkaConsumerStatements,
  kafkaProducerStatements,
  mskMappingClusterStatements,
} from './kafka-access';
import { acknowledgeRegistrySchemas, addKafkaMapping, registryReadStatements } from './kafka-mapping';
import { acknowledge } from './nag';

/** The API function's handler source (exports `handler`; core/bundling.ts lists every entry). */
const ANALYTICS_API_ENTRY = functionEntries([])['analytics-api'] as string;

/** DynamoDB table names are at most 255 characters (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html). */
const TABLE_NAME_MAX_LENGTH = 255;

export interface AnalyticsProps extends KafkaConsumerProps {
  /** The analytics service, from core/topology.ts. */
  readonly spec: AnalyticsSpec;
  /** The consumers' group, which the brokers admit. */
  readonly consumerSecurityGroup: ISecurityGroup;
  /** The table and its key. */
  readonly removalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection of the table. */
  readonly deletionProtection: boolean;
}

export class Analytics extends Construct {
  readonly table: AnalyticsTable;
  /** The consumer. */
  readonly consumer: EventFunction;
  /** One mapping per source topic, in the spec's order. */
  readonly eventSources: readonly { readonly topic: string; readonly eventSource: ManagedKafkaEventSource }[];
  /** Whether the mappings publish their own metrics (MetricsConfig). */
  readonly mappingMetrics: boolean;
  /** The function behind `GET /analytics/daily`. */
  readonly api: EventFunction;
  /** HTTPS to DynamoDB's prefix list, nothing else. */
  readonly tableClientSecurityGroup: SecurityGroup;
  readonly spec: AnalyticsSpec;

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    const { spec } = props;
    if (spec.sources.length === 0) throw new Error('the analytics service needs at least one source topic');
    const features = props.mappingFeatures ?? TARGET_FEATURES.aws.kafkaMapping;
    this.spec = spec;
    this.mappingMetrics = features.metrics;

    this.table = new AnalyticsTable(this, 'Table', {
      stage: props.stage,
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
    });

    const prefixListName = `com.amazonaws.${Stack.of(this).region}.dynamodb`;
    const call: AwsSdkCall = {
      service: 'EC2',
      action: 'DescribeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [prefixListName] }] },
      physicalResourceId: PhysicalResourceId.of(prefixListName),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    const lookup = new AwsCustomResource(this, 'DynamoDbPrefixList', {
      resourceType: 'Custom::DynamoDbPrefixList',
      onCreate: call,
      onUpdate: call,
      // EC2 Describe* actions have no resource-level permissions
      // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] }),
      ]),
      timeout: Duration.minutes(2),
      installLatestAwsSdk: false,
    });
    acknowledge(
      lookup,
      'AwsSolutions-IAM5[Resource::*]',
      'ec2:DescribeManagedPrefixLists has no resource-level permissions, so IAM matches it only against "*" ' +
        '(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html); it reads the ' +
        "id of DynamoDB's AWS-managed prefix list, nothing else.",
    );
    this.tableClientSecurityGroup = new SecurityGroup(this, 'TableClientSecurityGroup', {
      vpc: props.vpc,
      description: 'Analytics functions: HTTPS to DynamoDB through the gateway endpoint',
      allowAllOutbound: false,
    });
    this.tableClientSecurityGroup.addEgressRule(
      Peer.prefixList(lookup.getResponseField('PrefixLists.0.PrefixListId')),
      Port.tcp(443),
      'HTTPS to DynamoDB (its prefix list, routed to the gateway endpoint)',
    );

    const tableEnvironment = { [FUNCTION_ENV.analyticsTable]: this.table.table.tableName };
    const common = {
      vpc: props.vpc,
      subnets: props.subnets,
      logLevel: props.logLevel,
      metricsNamespace: props.metricsNamespace,
      tracer: props.tracer,
      architecture: props.architecture,
      logRetention: props.logRetention,
      logKey: props.logKey,
      logRemovalPolicy: props.logRemovalPolicy,
    };

    const topics = spec.sources.map((s) => s.topic);
    const consumerGroups = [props.consumerSecurityGroup, this.tableClientSecurityGroup];
    this.consumer = new EventFunction(this, 'Consumer', {
      ...common,
      functionName: `${props.stage}-${spec.name}`,
      entry: spec.entry,
      description: `${spec.description} Consumes ${topics.join(', ')}.`,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      securityGroups: consumerGroups,
      networkInterfaceSecurityGroups: [...consumerGroups, ...props.clusterSecurityGroups],
      serviceName: spec.name,
      environment: {
        ...kafkaEnvironment({
          brokers: props.bootstrapBrokers,
          auth: props.kafkaAuth ?? 'iam',
          schemaVersionIds: props.schemaVersionIds,
        }),
        ...tableEnvironment,
      },
      environmentSizeEstimates: {
        [FUNCTION_ENV.brokers]: props.bootstrapBrokersMaxLength,
        [FUNCTION_ENV.schemaVersionIds]: props.schemaVersionIdsMaxLength,
        [FUNCTION_ENV.analyticsTable]: TABLE_NAME_MAX_LENGTH,
      },
      statements: [
        ...mskMappingClusterStatements(props.cluster),
        ...kafkaConsumerStatements(
          props.cluster,
          spec.sources.map((s) => ({ topic: s.topic, groupId: s.mapping.consumerGroupId })),
        ),
        // Dead letters, the handler's and the mappings' on-failure destination, with an idempotent producer.
        ...kafkaProducerStatements(
          props.cluster,
          spec.sources.map((s) => s.mapping.onFailureTopic),
        ),
        ...registryReadStatements(this, props.registry),
        ...this.table.writeStatements(),
      ],
    });
    acknowledgeRegistrySchemas(this.consumer.role, props.registry);
    this.eventSources = spec.sources.map((s) => ({
      topic: s.topic,
      eventSource: addKafkaMapping(this.consumer, {
        cluster: props.cluster,
        topic: s.topic,
        mapping: s.mapping,
        features,
        pollers: props.pollers,
        registry: props.registry,
      }),
    }));

    this.api = new EventFunction(this, 'Api', {
      ...common,
      functionName: `${props.stage}-${spec.name}-api`,
      entry: ANALYTICS_API_ENTRY,
      description: 'Analytics API: GET /analytics/daily reads the daily aggregates.',
      memorySize: 256,
      // Below API Gateway's 29-second integration timeout
      // (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
      timeout: Duration.seconds(10),
      securityGroups: [this.tableClientSecurityGroup],
      serviceName: `${spec.name}-api`,
      environment: tableEnvironment,
      environmentSizeEstimates: { [FUNCTION_ENV.analyticsTable]: TABLE_NAME_MAX_LENGTH },
      statements: this.table.readStatements(),
    });
  }
}
