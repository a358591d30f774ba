/**
 * The topology's topics, created by a custom resource that runs a Kafka admin client
 * (lambdas/custom-resources/kafka-topics.ts): for a deployment target whose CloudFormation has no
 * AWS::MSK::Topic (lib/target.ts; LocalStack). Topics (lib/constructs/topics.ts) is the AWS way.
 *
 * - The handler is an EventFunction like every function of the system (same runtime, bundling, log
 *   group and key, execution role, tracing and acknowledgements), in the VPC's private subnets with its
 *   own security group, which the brokers admit like the functions'.
 * - The brokers come from the same GetBootstrapBrokers lookup the functions use (BootstrapBrokers),
 *   for the listener of the cluster's client authentication, and the auth mode is a property: the
 *   handler connects as the functions do.
 * - The topic settings are resource properties, so a topology change is an Update, which creates the
 *   new topics, adds partitions and sets configurations; the handler is idempotent.
 * - Removal policy as for AWS::MSK::Topic: RETAIN keeps the resource (and the topics) out of a stack
 *   deletion, DESTROY (`destroyOnRemoval=true`) deletes the topics.
 *
 * CDK's provider framework (`custom_resources.Provider`) stands between CloudFormation and the handler:
 * its function invokes the handler, answers on the pre-signed response URL and turns a thrown error or
 * the handler's timeout into a failure
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#provider-framework).
 * That function only calls the Lambda API and the response URL (in Amazon S3), so it runs outside the
 * VPC; only the handler talks to the brokers. It logs to a log group of its own (retention and key as
 * every log group) and has a role of its own whose only policy is written here.
 */
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  type ISecurityGroup,
  type IVpc,
  Port,
  SecurityGroup,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { type KafkaTopicsProperties, topicSettings } from '../../core/topic-resource';
import type { TopicSpec } from '../../core/topology';

export { topicSettings } from '../../core/topic-resource';

import type { LogLevel } from '../config';
import type { FunctionArchitecture, KafkaClientAuth } from '../target';
import { BootstrapBrokers } from './bootstrap-brokers';
import { EventFunction, writeOwnLogs } from './event-function';
import type { KafkaClusterRef } from './kafka-access';
import { acknowledge } from './nag';

/** The custom resource's handler source, relative to the project root. */
const KAFKA_TOPICS_ENTRY = 'lambdas/custom-resources/kafka-topics.ts';

export interface KafkaAdminTopicsProps {
  /** Name prefix of the function. */
  readonly stage: string;
  readonly cluster: KafkaClusterRef;
  /** The cluster's client authentication: which listener, and how the admin client connects. */
  readonly clientAuthentication: KafkaClientAuth;
  readonly topics: readonly TopicSpec[];
  /** The host the handler reaches the brokers under, in place of the answered one (BootstrapBrokers). */
  readonly brokerHostForFunctions?: string;
  /** Brokers in the GetBootstrapBrokers answer whose host is replaced. @default 1 */
  readonly brokersAnswered?: number;
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** The brokers' security group, which admits the function's on `brokerPort`. */
  readonly brokerSecurityGroup: ISecurityGroup;
  readonly brokerPort: number;
  /** Powertools settings of the handler, as every function has them. */
  readonly logLevel: LogLevel;
  readonly metricsNamespace: string;
  readonly logRetention: RetentionDays;
  /** Encrypts its log groups (lib/constructs/log-key.ts). @default CloudWatch Logs' own encryption */
  readonly logKey?: IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** The instruction set (lib/target.ts `functionArchitecture`). @default 'arm64' */
  readonly architecture?: FunctionArchitecture;
  /** What happens to the topics when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class KafkaAdminTopics extends Construct {
  /** The handler: the provider framework's onEvent handler. */
  readonly handler: EventFunction;
  readonly provider: Provider;
  /** The provider framework's function, which CloudFormation invokes (the service token). */
  readonly frameworkFunction: LambdaFunction;
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
      hostForFunctions: props.brokerHostForFunctions,
      brokersAnswered: props.brokersAnswered,
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

    // The Kafka APIs of topic management on an IAM-authenticated cluster (the actions AWS::MSK::Topic
    // needs, docs/deploy.md "Before the first deployment").
    const statements =
      props.clientAuthentication === 'iam'
        ? [
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
          ]
        : [];
    this.handler = new EventFunction(this, 'Handler', {
      functionName,
      entry: KAFKA_TOPICS_ENTRY,
      description:
        'CloudFormation custom resource (provider framework onEvent): creates the Kafka topics of the topology with an admin client.',
      memorySize: 256,
      // The framework reports the handler's timeout as the resource's failure.
      timeout: Duration.minutes(5),
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [this.securityGroup],
      serviceName: 'kafka-topics',
      logLevel: props.logLevel,
      metricsNamespace: props.metricsNamespace,
      environment: {},
      statements,
      logRetention: props.logRetention,
      logKey: props.logKey,
      logRemovalPolicy: props.logRemovalPolicy,
      architecture: props.architecture,
      noDeadLetterQueueReason:
        "The provider framework's function invokes this handler synchronously (RequestResponse) and answers " +
        'CloudFormation with its result or error: a failure fails the deployment with its reason, and a ' +
        'dead-letter queue would hold requests nothing re-drives.',
    });

    // The framework's function: its log group and its role, as every function has its own.
    const frameworkLogs = new LogGroup(this, 'ProviderLogs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const handlerArn = this.handler.function.functionArn;
    const frameworkRole = new Role(this, 'ProviderRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the provider framework of ${functionName}`,
      inlinePolicies: {
        Execution: new PolicyDocument({
          statements: [
            writeOwnLogs(frameworkLogs),
            // What the framework grants itself on the handler (Provider.addPermissions: lambda:InvokeFunction
            // and lambda:GetFunction), on the function it invokes by its unqualified ARN only.
            new PolicyStatement({
              sid: 'InvokeHandler',
              actions: ['lambda:InvokeFunction', 'lambda:GetFunction'],
              resources: [handlerArn],
            }),
          ],
        }),
      },
    });
    this.provider = new Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      // Its grants would widen the role; they are the statement above.
      frameworkOnEventRole: frameworkRole.withoutPolicyUpdates(),
      logGroup: frameworkLogs,
    });
    this.frameworkFunction = this.provider.node.findChild('framework-onEvent') as LambdaFunction;
    // The framework's function is CDK's code with CDK's settings (runtime: the latest Node.js CDK knows,
    // 15-minute timeout); what cdk-nag's Serverless pack asks of it beyond that is acknowledged here.
    acknowledge(
      this.frameworkFunction,
      'Serverless-LambdaDLQ',
      'CloudFormation invokes the provider framework asynchronously with a response URL ' +
        '(https://docs.aws.amazon.com/lambda/latest/dg/services-cloudformation.html), and the framework answers on ' +
        'that URL whatever the handler does (its result, its error or its timeout): a failure fails the deployment ' +
        'with its reason, and a dead-letter queue would hold requests nothing re-drives.',
    );
    acknowledge(
      this.frameworkFunction,
      'Serverless-LambdaTracing',
      "CDK's provider framework has no X-Ray instrumentation: its one step is a synchronous invocation of the " +
        'handler, which is actively traced (EventFunction), and it logs each request and answer to its own log group.',
    );
    acknowledge(
      this.frameworkFunction,
      'Serverless-LambdaDefaultMemorySize',
      "CDK sets the provider framework's function and leaves its memory at Lambda's default of 128 MB: it waits on " +
        'one invocation of the handler and sends a response of a few KB, which the default is enough for.',
    );

    const properties: KafkaTopicsProperties = {
      ClusterArn: props.cluster.clusterArn,
      Brokers: this.bootstrapBrokers.brokers,
      KafkaAuth: props.clientAuthentication,
      Topics: JSON.stringify(props.topics.map(topicSettings)),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties: { ...properties },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
