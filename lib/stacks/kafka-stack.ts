/**
 * The streaming platform: the network, the MSK cluster and the topics of the topology. Stateful and
 * slow to create (an MSK cluster takes tens of minutes), so it is deployed apart from the
 * application, which references it. Its `ClusterArn` output names the cluster (for
 * `aws kafka get-bootstrap-brokers`, the ops tools and the LocalStack smoke run).
 *
 * What the target implements (lib/target.ts) decides the cluster's client authentication, whether
 * the broker configuration, the VPC flow log and the AWS::MSK::Topic resources exist, and, without
 * AWS::MSK::Topic, a custom resource creates the topics with a Kafka admin client instead.
 */
import { Aws, CfnOutput, CfnRule, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { topicForCluster } from '../../core/topology';
import { type DeploymentConfig, MSK_UNSUPPORTED_ZONE_IDS } from '../config';
import { KafkaAdminTopics } from '../constructs/kafka-admin-topics';
import { KafkaCluster } from '../constructs/kafka-cluster';
import { LogKey } from '../constructs/log-key';
import { KAFKA_IAM_PORT, Network } from '../constructs/network';
import { Topics } from '../constructs/topics';
import { checkedTopology, statefulRemovalPolicy, type Topology } from './shared';

export interface KafkaStackProps extends StackProps {
  readonly config: DeploymentConfig;
  /** @default core/topology.ts */
  readonly topology?: Topology;
}

export class KafkaStack extends Stack {
  readonly network: Network;
  /** Encrypts every log group of the stack. */
  readonly logKey: LogKey;
  readonly kafka: KafkaCluster;
  /** The topics: AWS::MSK::Topic resources, or the custom resource that creates them. */
  readonly topics: Topics | KafkaAdminTopics;
  private readonly azs: string[];

  constructor(scope: Construct, id: string, props: KafkaStackProps) {
    const { config, topology: givenTopology, ...stackProps } = props;
    super(scope, id, { terminationProtection: config.terminationProtection, ...stackProps });
    const topology = checkedTopology(givenTopology);
    const removalPolicy = statefulRemovalPolicy(config);
    const logRetention = config.observability.logRetentionDays as RetentionDays;
    const { features } = config;
    // The brokers need three zones: zone IDs if configured (the subnets then use AvailabilityZoneId),
    // else zone names, else the Region's first three, resolved by CloudFormation: synth looks nothing
    // up and needs no credentials. lib/config.ts refuses the zones MSK cannot use where it can tell.
    const { availabilityZoneIds, availabilityZones } = config.network;
    this.azs = availabilityZoneIds
      ? [...availabilityZoneIds]
      : availabilityZones
        ? [...availabilityZones]
        : [0, 1, 2].map((i) => Fn.select(i, Fn.getAzs()));
    if (config.network.refuseUsEast1) {
      // Region unknown at synth and zones unpinned: the first three zones of a region where MSK refuses
      // one could include it, and CreateCluster would fail half an hour in. A template rule is checked
      // before any resource is created (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html).
      for (const [region, zoneId] of Object.entries(MSK_UNSUPPORTED_ZONE_IDS)) {
        new CfnRule(this, `ZonesPinnedIn-${region}`, {
          assertions: [
            {
              assert: Fn.conditionNot(Fn.conditionEquals(Aws.REGION, region)),
              assertDescription:
                `In ${region} Amazon MSK cannot place brokers in ${zoneId}, which unpinned zones may include: ` +
                `synthesize with -c availabilityZoneIds=<three zone IDs other than ${zoneId}>, e.g. use1-az1,use1-az2,use1-az4.`,
            },
          ],
        });
      }
    }

    this.logKey = new LogKey(this, 'LogKey', {
      description: `Encrypts the log groups of ${id}`,
      removalPolicy,
    });
    this.network = new Network(this, 'Network', {
      cidr: config.network.vpcCidr,
      natGateways: config.network.natGateways,
      interfaceEndpoints: config.network.interfaceEndpoints,
      zonesAreIds: availabilityZoneIds !== undefined,
      flowLog: features.vpcFlowLog,
      logRetention,
      logKey: this.logKey.key,
      removalPolicy,
    });
    this.kafka = new KafkaCluster(this, 'Kafka', {
      clusterName: `${config.stage}-events`,
      kafkaVersion: config.kafka.version,
      brokerType: config.kafka.brokerType,
      instanceType: config.kafka.instanceType,
      brokersPerAz: config.kafka.brokersPerAz,
      volumeSizeGiB: config.kafka.volumeSizeGiB,
      enhancedMonitoring: config.kafka.enhancedMonitoring,
      clientAuthentication: features.kafkaClientAuth,
      configuration: features.mskConfiguration,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      securityGroups: [this.network.brokerSecurityGroup, this.network.mappingSecurityGroup],
      logRetention,
      logKey: this.logKey.key,
      removalPolicy,
    });
    this.topics = features.mskTopicResource
      ? new Topics(this, 'Topics', {
          cluster: this.kafka.ref,
          brokerCount: this.kafka.brokerCount,
          expressBrokers: config.kafka.brokerType === 'express',
          topics: topology.topics,
          removalPolicy,
        })
      : new KafkaAdminTopics(this, 'Topics', {
          stage: config.stage,
          cluster: this.kafka.ref,
          clientAuthentication: features.kafkaClientAuth,
          // A target that runs fewer brokers than the cluster asks for (LocalStack: one) gets topics
          // whose replication and min.insync.replicas fit them (core/topology.ts, topicForCluster).
          topics:
            features.brokersRun === undefined
              ? topology.topics
              : topology.topics.map((t) => topicForCluster(t, features.brokersRun as number)),
          brokerHostForFunctions: features.brokerHostForFunctions,
          brokersAnswered: features.brokersRun,
          architecture: config.functionArchitecture,
          vpc: this.network.vpc,
          subnets: this.network.privateSubnets,
          brokerSecurityGroup: this.network.brokerSecurityGroup,
          brokerPort: KAFKA_IAM_PORT,
          logLevel: config.observability.logLevel,
          metricsNamespace: config.observability.metricsNamespace,
          logRetention,
          logKey: this.logKey.key,
          logRemovalPolicy: removalPolicy,
          removalPolicy,
        });

    // `npm run ops -- --stage <stage>` reads this output by its key (CLUSTER_ARN_OUTPUT, ops/discover.ts).
    new CfnOutput(this, 'ClusterArn', {
      value: this.kafka.cluster.attrArn,
      description: 'The MSK cluster (aws kafka get-bootstrap-brokers --cluster-arn <arn>)',
    });
  }

  override get availabilityZones(): string[] {
    return this.azs;
  }
}
