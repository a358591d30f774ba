/**
 * The topology's topics, created by a custom resource that runs a Kafka admin client
 * (lambdas/custom-resources/kafka-topics.ts): for a deployment target whose CloudFormation has no
 * AWS::MSK::Topic (lib/target.ts; LocalStack). Topics (lib/constructs/topics.ts) is the AWS way.
 *
 * - The function runs in the VPC's private subnets with its own security group, which the brokers
 *   admit like the functions'; it is bundled by the project's esbuild like every function.
 * - The brokers come from the same GetBootstrapBrokers lookup the functions use (BootstrapBrokers),
 *   for the listener of the cluster's client authentication, and the auth mode is a property: the
 *   handler connects as the functions do.
 * - The topic settings are resource properties, so a topology change is an Update, which creates the
 *   new topics, adds partitions and sets configurations; the handler is idempotent.
 * - Removal policy as for AWS::MSK::Topic: RETAIN keeps the resource (and the topics) out of a stack
 *   deletion, DESTROY (`destroyOnRemoval=true`) deletes the topics.
 *
 * CloudFormation invokes the function directly (its ARN is the service token) and the function answers
 * on the pre-signed response URL itself, so there is no provider framework. In AWS that URL is in
 * Amazon S3: the private subnets would need a NAT gateway or an S3 gateway endpoint to reach it.
 */
import { join } from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  type ISecurityGroup,
  type IVpc,
  Port,
  SecurityGroup,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type KafkaTopicsProperties, topicSettings } from '../../core/topic-resource';
import type { TopicSpec } from '../../core/topology';

export { topicSettings } from '../../core/topic-resource';

import { functionBundling } from '../bundling';
import type { KafkaClientAuth } from '../target';
import { BootstrapBrokers } from './bootstrap-brokers';
import {
  anyNetworkInterfaceArn,
  HANDLER_EXPORT,
  PROJECT_ROOT,
  vpcNetworkInterfaceStatements,
} from './event-function';
import type { KafkaClusterRef } from './kafka-access';
import { acknowledge, acknowledgeWildcardResource } from './nag';

/** The custom resource's handler source, relative to the project root. */
export const KAFKA_TOPICS_ENTRY = 'lambdas/custom-resources/kafka-topics.ts';

export interface KafkaAdminTopicsProps {
  /** Name prefix of the function. */
  readonly stage: string;
  readonly cluster: KafkaClusterRef;
  /** The cluster's client authentication: which listener, and how the admin client connects. */
  readonly clientAuthentication: KafkaClientAuth;
  readonly topics: readonly TopicSpec[];
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** The brokers' security group, which admits the function's on `brokerPort`. */
  readonly brokerSecurityGroup: ISecurityGroup;
  readonly brokerPort: number;
  readonly logRetention: RetentionDays;
  /** Encrypts its log group (lib/constructs/log-key.ts). @default CloudWatch Logs' own encryption */
  readonly logKey?: IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** What happens to the topics when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class KafkaAdminTopics extends Construct {
  readonly function: NodejsFunction;
  readonly resource: CustomResource;
  readonly securityGroup: SecurityGroup;
  readonly bootstrapBrokers: BootstrapBrokers;

  constructor(scope: Construct, id: string, props: KafkaAdminTopicsProps) {
    super(scope, id);
    const functionName = `${props.stage}-kafka-topics`;
    this.bootstrapBrokers = new BootstrapBrokers(this, 'BootstrapBrokers', {
      cluster: props.cluster,
      clientAuthentication: props.clientAuthentication,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      logKey: props.logKey,
    });

    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Kafka topics custom resource: creates the topics on the brokers',
      allowAllOutbound: false,
    });
    props.brokerSecurityGroup.addIngressRule(
      this.securityGroup,
      Port.tcp(props.brokerPort),
      'Kafka from the topics custom resource',
    );
    this.securityGroup.addEgressRule(
      props.brokerSecurityGroup,
      Port.tcp(props.brokerPort),
      'Kafka to the brokers',
    );

    // No fixed name: the function logs here through its LoggingConfig, and a retained log group of a
    // fixed name would make the next deployment fail.
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds;
    const statements = [
      new PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
      // X-Ray has no resource-level permissions.
      new PolicyStatement({
        sid: 'WriteTraces',
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
      ...vpcNetworkInterfaceStatements(this, subnetIds, [this.securityGroup.securityGroupId]),
    ];
    if (props.clientAuthentication === 'iam') {
      // The Kafka APIs of topic management on an IAM-authenticated cluster (the actions AWS::MSK::Topic
      // needs, docs/deploy.md "Before the first deployment").
      statements.push(
        new PolicyStatement({
          sid: 'KafkaConnect',
          actions: ['kafka-cluster:Connect'],
          resources: [props.cluster.clusterArn],
        }),
        new PolicyStatement({
          sid: 'KafkaManageTopics',
          actions: [
            'kafka-cluster:CreateTopic',
            'kafka-cluster:DescribeTopic',
            'kafka-cluster:AlterTopic',
            'kafka-cluster:DescribeTopicDynamicConfiguration',
            'kafka-cluster:AlterTopicDynamicConfiguration',
            'kafka-cluster:DeleteTopic',
          ],
          resources: props.topics.map((t) => props.cluster.topicArn(t.name)),
        }),
      );
    }
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${functionName}`,
      inlinePolicies: { Execution: new PolicyDocument({ statements }) },
    });

    this.function = new NodejsFunction(this, 'Function', {
      functionName,
      description:
        'CloudFormation custom resource: creates the Kafka topics of the topology with an admin client.',
      entry: join(PROJECT_ROOT, KAFKA_TOPICS_ENTRY),
      handler: HANDLER_EXPORT,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      // The handler answers CloudFormation 10 s before this, whatever the brokers do.
      timeout: Duration.minutes(5),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      allowPublicSubnet: false,
      role: role.withoutPolicyUpdates(),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        ...functionBundling,
        assetHash: Stack.of(this).bundlingRequired ? undefined : `unbundled-${functionName}`,
      },
    });

    const properties: KafkaTopicsProperties = {
      ClusterArn: props.cluster.clusterArn,
      Brokers: this.bootstrapBrokers.brokers,
      KafkaAuth: props.clientAuthentication,
      Topics: JSON.stringify(props.topics.map(topicSettings)),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::KafkaTopics',
      properties: { ...properties },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only actions without resource-level permissions are on "*": xray:PutTraceSegments/PutTelemetryRecords ' +
        '(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html) and ' +
        "ec2:Describe* for Lambda's VPC networking (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).",
    );
    acknowledgeWildcardResource(
      role,
      anyNetworkInterfaceArn(this),
      'Lambda names the network interfaces it creates and deletes for the function, so their ids cannot be ' +
        "listed; creation is limited to this VPC's subnets and the function's security group " +
        '(https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).',
    );
    acknowledge(
      role,
      'Serverless-LambdaStarPermissions',
      "The role's wildcards are the ones acknowledged for AwsSolutions-IAM5 on it: X-Ray and EC2 actions without " +
        'resource-level permissions, and the network interfaces Lambda manages for the function.',
    );
    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      'CloudFormation invokes this custom-resource function and waits for the answer it sends to the response ' +
        'URL: a failure fails the deployment with its reason, and a dead-letter queue would hold requests nothing re-drives.',
    );
  }
}
