/**
 * The Amazon MSK provisioned cluster: brokers spread over three Availability Zones, IAM
 * authentication only, TLS between clients and brokers and inside the cluster, storage encrypted with
 * a customer-managed KMS key, broker logs in CloudWatch Logs, and a configuration that forbids topic
 * auto-creation (every topic comes from core/topology.ts through AWS::MSK::Topic) and keeps three
 * replicas with two in sync.
 *
 * By configuration (lib/target.ts), for a target without those features: unauthenticated plaintext
 * client access instead of IAM (`clientAuthentication: 'plaintext'`: clients use the
 * `BootstrapBrokerString` listener, and TLS stays on inside the cluster), and no configuration resource
 * (`configuration: false`: the brokers keep their defaults).
 *
 * Express brokers manage replication themselves: `default.replication.factor` (3) and
 * `min.insync.replicas` (2) are read-only on them, so their configuration only sets what Express
 * lets a customer set (https://docs.aws.amazon.com/msk/latest/developerguide/msk-configuration-express-read-only.html).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnCluster, CfnConfiguration } from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import type { BrokerType, EnhancedMonitoring } from '../config';
import type { KafkaClientAuth } from '../target';
import { KafkaClusterRef } from './kafka-access';
import { acknowledge } from './nag';

/** The Availability Zones the brokers spread over. */
const BROKER_AZS = 3;

export interface KafkaClusterProps {
  /** Cluster name (1–64 letters, digits and dashes); also the prefix of its configuration's name. */
  readonly clusterName: string;
  /** MSK Apache Kafka version string, 3.6 or later. */
  readonly kafkaVersion: string;
  readonly brokerType: BrokerType;
  readonly instanceType: string;
  /** Brokers in each Availability Zone. @default 1 */
  readonly brokersPerAz?: number;
  /** EBS volume per Standard broker, GiB. */
  readonly volumeSizeGiB: number;
  readonly enhancedMonitoring: EnhancedMonitoring;
  /**
   * `iam`: SASL/IAM over TLS only. `plaintext`: unauthenticated clients over plaintext only (for a
   * broker without IAM; never on AWS). @default 'iam'
   */
  readonly clientAuthentication?: KafkaClientAuth;
  /**
   * Create the broker configuration (no topic auto-creation, replication 3 / 2 in sync) as an
   * AWS::MSK::Configuration; `false` leaves the brokers' defaults. @default true
   */
  readonly configuration?: boolean;
  readonly vpc: IVpc;
  /** One subnet per Availability Zone. */
  readonly subnets: SubnetSelection;
  /** The brokers' security groups (the event-source mappings get them too). */
  readonly securityGroups: readonly ISecurityGroup[];
  readonly logRetention: RetentionDays;
  /** Encrypts its log group (lib/constructs/log-key.ts). @default CloudWatch Logs' own encryption */
  readonly logKey?: IKey;
  /**
   * What happens to the KMS key and the broker log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class KafkaCluster extends Construct {
  readonly cluster: CfnCluster;
  /** The broker configuration, when created. */
  readonly configuration: CfnConfiguration | undefined;
  /** Encrypts the brokers' storage. */
  readonly key: Key;
  readonly brokerLogGroup: LogGroup;
  /** ARN, name, and the ARNs of its topics and groups. */
  readonly ref: KafkaClusterRef;
  /** Number of brokers: replication factors are capped by it. */
  readonly brokerCount: number;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    if (!/^[a-zA-Z0-9-]{1,64}$/.test(props.clusterName))
      throw new Error(`cluster name "${props.clusterName}" must be 1–64 letters, digits or dashes`);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds;
    // MSK spreads the brokers evenly over the client subnets, one per Availability Zone
    // (https://docs.aws.amazon.com/msk/latest/developerguide/msk-create-cluster.html).
    if (subnetIds.length !== BROKER_AZS)
      throw new Error(
        `the brokers need one subnet in each of ${BROKER_AZS} Availability Zones, got ${subnetIds.length}`,
      );
    this.brokerCount = BROKER_AZS * (props.brokersPerAz ?? 1);

    this.key = new Key(this, 'Key', {
      description: `Encrypts the storage of MSK cluster ${props.clusterName}`,
      enableKeyRotation: true,
      removalPolicy,
    });

    // No fixed name: a retained log group of that name would make the next deployment fail.
    this.brokerLogGroup = new LogGroup(this, 'BrokerLogs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy,
    });

    if (props.configuration ?? true) {
      const serverProperties =
        props.brokerType === 'express'
          ? ['auto.create.topics.enable=false']
          : [
              'auto.create.topics.enable=false',
              `default.replication.factor=${Math.min(3, this.brokerCount)}`,
              `min.insync.replicas=${Math.min(2, this.brokerCount)}`,
            ];
      this.configuration = new CfnConfiguration(this, 'Configuration', {
        // No kafkaVersionsList: it is create-only, and a version upgrade must not need a new configuration.
        name: `${props.clusterName}-config`,
        description: 'Topics come from the topology only; three replicas, two in sync.',
        serverProperties: `${serverProperties.join('\n')}\n`,
      });
    } else {
      this.configuration = undefined;
    }
    const plaintext = props.clientAuthentication === 'plaintext';

    this.cluster = new CfnCluster(this, 'Cluster', {
      clusterName: props.clusterName,
      kafkaVersion: props.kafkaVersion,
      numberOfBrokerNodes: this.brokerCount,
      brokerNodeGroupInfo: {
        instanceType: props.instanceType,
        clientSubnets: subnetIds,
        securityGroups: props.securityGroups.map((g) => g.securityGroupId),
        // Express brokers have no EBS volume to size.
        storageInfo:
          props.brokerType === 'express'
            ? undefined
            : { ebsStorageInfo: { volumeSize: props.volumeSizeGiB } },
      },
      clientAuthentication: plaintext
        ? { unauthenticated: { enabled: true } }
        : { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: this.key.keyArn },
        encryptionInTransit: { clientBroker: plaintext ? 'PLAINTEXT' : 'TLS', inCluster: true },
      },
      configurationInfo: this.configuration && {
        arn: this.configuration.attrArn,
        revision: this.configuration.attrLatestRevisionRevision,
      },
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: this.brokerLogGroup.logGroupName } },
      },
      enhancedMonitoring: props.enhancedMonitoring,
    });
    if (plaintext) {
      acknowledge(
        this.cluster,
        'AwsSolutions-MSK2',
        'Plaintext client access is chosen only for a deployment target whose broker has no IAM or TLS listener ' +
          '(lib/target.ts, LocalStack: an emulator on your machine, holding test data); on AWS the cluster ' +
          'accepts SASL/IAM over TLS only.',
      );
    }
    this.ref = new KafkaClusterRef(this, this.cluster.attrArn, props.clusterName);
  }
}
