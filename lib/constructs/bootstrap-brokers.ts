/**
 * The bootstrap brokers of the cluster's client listener, looked up at deploy time: AWS::MSK::Cluster
 * returns only the cluster ARN, and the broker host names are MSK's to choose, so a custom resource
 * calls Kafka GetBootstrapBrokers
 * (https://docs.aws.amazon.com/msk/latest/1.0/apireference/clusters-clusterarn-bootstrap-brokers.html)
 * and the functions get the answer in `KAFKA_BROKERS`: `BootstrapBrokerStringSaslIam`, the SASL/IAM
 * over TLS listener on port 9098, for a cluster with IAM client authentication, or
 * `BootstrapBrokerString`, the plaintext listener, for one with unauthenticated plaintext access.
 *
 * The lookup function runs outside the VPC (it calls the MSK control plane, not the brokers) with its
 * own role: it may write its own log group and call that one action. GetBootstrapBrokers has no
 * resource type in the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedstreamingforapachekafka.html),
 * so it is granted on `*`, the only resource IAM matches it against; the call names the cluster.
 *
 * Where the brokers' host as answered is not the one the functions reach them under (LocalStack:
 * `localhost:<port>`, which in a function's container is the container itself; lib/target.ts,
 * `brokerHostForFunctions`), {@link BootstrapBrokers.brokers} is the answer with the host of each of
 * the target's brokers replaced and its port kept, rewritten at deploy time with `Fn::Split`,
 * `Fn::Select` and `Fn::Join`
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-split.html).
 */
import { Duration, Fn, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { KafkaClientAuth } from '../target';
import { type KafkaClusterRef, mskGetBootstrapBrokersStatement } from './kafka-access';
import { acknowledge } from './nag';

/**
 * Upper bound of one broker's `host:port`: `b-<n>.<cluster name ≤ 64>.<id>.c<n>.kafka.<region>.amazonaws.com:9098`
 * stays under 128 characters.
 */
export const MAX_BROKER_ADDRESS_LENGTH = 128;

/** The GetBootstrapBrokers field of each client authentication's listener. */
const BOOTSTRAP_BROKERS_FIELD: Readonly<Record<KafkaClientAuth, string>> = {
  iam: 'BootstrapBrokerStringSaslIam',
  plaintext: 'BootstrapBrokerString',
};

export interface BootstrapBrokersProps {
  readonly cluster: KafkaClusterRef;
  /** The cluster's client authentication, which names the listener. @default 'iam' */
  readonly clientAuthentication?: KafkaClientAuth;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Customer-managed key of the log group (lib/constructs/log-key.ts). */
  readonly logKey?: IKey;
  /**
   * The host under which the functions reach the brokers, in place of the answered host of each
   * broker (ports kept). @default the brokers as answered
   */
  readonly hostForFunctions?: string;
  /** Brokers in the answer, when the host is replaced (the first ones are kept). @default 1 */
  readonly brokersAnswered?: number;
}

/**
 * `host:port,...` with the host of each of the first `count` brokers of `brokers` (a deploy-time
 * `host:port,host:port` value) replaced by `host`, ports kept. A bootstrap list needs one reachable
 * broker: the client learns the others from the cluster's metadata.
 */
function withBrokerHost(brokers: string, host: string, count = 1): string {
  return Fn.join(
    ',',
    Array.from({ length: count }, (_, i) =>
      Fn.join(':', [host, Fn.select(1, Fn.split(':', Fn.select(i, Fn.split(',', brokers))))]),
    ),
  );
}

export class BootstrapBrokers extends Construct {
  /**
   * `host:port,host:port,...` of the listener as the functions reach it (a deploy-time value), e.g.
   * `host:9098,...` for IAM: the answer, or the answer with {@link BootstrapBrokersProps.hostForFunctions}.
   */
  readonly brokers: string;
  /** The listener's `host:port,...` as GetBootstrapBrokers answers it. */
  readonly answered: string;
  readonly resource: AwsCustomResource;

  constructor(scope: Construct, id: string, props: BootstrapBrokersProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
      encryptionKey: props.logKey,
    });
    // In place of the AWS-managed AWSLambdaBasicExecutionRole: its own log group only.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Looks up the MSK bootstrap brokers at deploy time',
      inlinePolicies: {
        Logs: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    const field = BOOTSTRAP_BROKERS_FIELD[props.clientAuthentication ?? 'iam'];
    const call: AwsSdkCall = {
      service: 'Kafka',
      action: 'GetBootstrapBrokers',
      parameters: { ClusterArn: props.cluster.clusterArn },
      physicalResourceId: PhysicalResourceId.of(props.cluster.clusterArn),
      // The answer also holds the other listeners' strings; only this one is kept.
      outputPaths: [field],
    };
    this.resource = new AwsCustomResource(this, 'Lookup', {
      resourceType: 'Custom::MskBootstrapBrokers',
      onCreate: call,
      onUpdate: call,
      policy: AwsCustomResourcePolicy.fromStatements([mskGetBootstrapBrokersStatement()]),
      role,
      logGroup,
      memorySize: 256,
      timeout: Duration.minutes(2),
      installLatestAwsSdk: false,
    });
    this.answered = this.resource.getResponseField(field);
    this.brokers =
      props.hostForFunctions === undefined
        ? this.answered
        : withBrokerHost(this.answered, props.hostForFunctions, props.brokersAnswered);

    acknowledge(
      this.resource,
      'AwsSolutions-IAM5[Resource::*]',
      'kafka:GetBootstrapBrokers has no resource type in the Service Authorization Reference, so IAM matches it ' +
        'only against "*" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedstreamingforapachekafka.html); ' +
        "it is the policy's only action, and it reveals broker host names and ports, nothing else.",
    );

    // CDK creates the provider function once per stack, at the stack's root.
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (!provider) throw new Error('the AwsCustomResource provider function was not found');
    acknowledge(
      provider,
      'Serverless-LambdaDLQ',
      'CloudFormation invokes this custom-resource provider and waits for its answer: a failed lookup fails the ' +
        'deployment, and a dead-letter queue would hold requests that nothing could re-drive.',
    );
    acknowledge(
      provider,
      'Serverless-LambdaTracing',
      "A deploy-time lookup making one MSK control-plane call per deployment; CDK's AwsCustomResource provider " +
        'offers no tracing setting, and its log group records every call.',
    );
  }
}
