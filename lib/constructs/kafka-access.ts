/**
 * IAM for Kafka on MSK: the ARNs of a cluster's topics and consumer groups, and the policy statements
 * of a producer and of a consumer, scoped to exactly the topics and group each one uses.
 *
 * Resource ARNs follow https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html#msk-iam-resources
 * (`arn:aws:kafka:<region>:<account>:topic/<cluster-name>/<cluster-uuid>/<topic>`, likewise `group/`),
 * the actions https://docs.aws.amazon.com/service-authorization/latest/reference/list_apachekafkaapisforamazonmskclusters.html.
 */
import { ArnFormat, Fn, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** What a client of the cluster needs to know about it: its ARN and name. */
export class KafkaClusterRef {
  /** The cluster's UUID, the last segment of its ARN (`cluster/<name>/<uuid>`), resolved at deploy time. */
  readonly clusterUuid: string;

  constructor(
    private readonly scope: IConstruct,
    /** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>` */
    readonly clusterArn: string,
    /** The cluster name, as given at creation (a plain string, known at synth). */
    readonly clusterName: string,
  ) {
    this.clusterUuid = Fn.select(2, Fn.split('/', clusterArn));
  }

  private arn(resource: 'topic' | 'group', name: string): string {
    return Stack.of(this.scope).formatArn({
      service: 'kafka',
      resource,
      resourceName: `${this.clusterName}/${this.clusterUuid}/${name}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** ARN of the topic `name`. */
  topicArn(name: string): string {
    return this.arn('topic', name);
  }

  /** ARN of the consumer group `id`. */
  groupArn(id: string): string {
    return this.arn('group', id);
  }
}

/**
 * A producer's Kafka permissions: connect, read topic metadata and write to `topics`, with an
 * idempotent producer (`WriteDataIdempotently` is a cluster action). No read or group action.
 */
export function kafkaProducerStatements(
  cluster: KafkaClusterRef,
  topics: readonly string[],
): PolicyStatement[] {
  if (topics.length === 0) throw new Error('a Kafka producer needs at least one topic to write to');
  return [
    new PolicyStatement({
      sid: 'KafkaConnectIdempotent',
      actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
      resources: [cluster.clusterArn],
    }),
    new PolicyStatement({
      sid: 'KafkaWriteTopics',
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      resources: [...new Set(topics)].sort().map((t) => cluster.topicArn(t)),
    }),
  ];
}

/**
 * The Kafka permissions of a function's event-source mappings, on its role: connect and read cluster
 * configuration, read each source topic as its consumer group
 * (https://docs.aws.amazon.com/lambda/latest/dg/msk-cluster-auth.html#msk-iam-auth).
 */
export function kafkaConsumerStatements(
  cluster: KafkaClusterRef,
  sources: readonly { readonly topic: string; readonly groupId: string }[],
): PolicyStatement[] {
  if (sources.length === 0) throw new Error('a Kafka consumer needs at least one topic to read');
  const sorted = (xs: readonly string[]) => [...new Set(xs)].sort();
  return [
    new PolicyStatement({
      sid: 'KafkaConnect',
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
      resources: [cluster.clusterArn],
    }),
    new PolicyStatement({
      sid: 'KafkaReadSourceTopic',
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resources: sorted(sources.map((s) => s.topic)).map((t) => cluster.topicArn(t)),
    }),
    new PolicyStatement({
      sid: 'KafkaConsumerGroup',
      actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      resources: sorted(sources.map((s) => s.groupId)).map((g) => cluster.groupArn(g)),
    }),
  ];
}

/**
 * What Lambda needs on the execution role to run an MSK event-source mapping, in place of the
 * AWS-managed AWSLambdaMSKExecutionRole (whose statement allows these actions on `*`,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaMSKExecutionRole.html).
 * The network-interface and log actions it also holds are granted by EventFunction
 * (event-function.ts), on the VPC's interfaces and the function's log group.
 *
 * - `kafka:DescribeClusterV2` on this cluster only. The Lambda guide asks for one of DescribeCluster
 *   and DescribeClusterV2 and recommends V2, which works for provisioned and serverless clusters
 *   ("You only need one of these permissions in your policy",
 *   https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html), so DescribeCluster is
 *   not granted.
 * - `kafka:GetBootstrapBrokers` on `*`, in a statement of its own: the Service Authorization
 *   Reference gives it no resource type
 *   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedstreamingforapachekafka.html),
 *   so IAM matches it only against `*`; a cluster ARN there grants nothing. It reveals broker
 *   addresses only.
 */
export function mskMappingClusterStatements(cluster: KafkaClusterRef): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'MskMappingDescribeCluster',
      actions: ['kafka:DescribeClusterV2'],
      resources: [cluster.clusterArn],
    }),
    mskGetBootstrapBrokersStatement('MskMappingBootstrapBrokers'),
  ];
}

/**
 * `kafka:GetBootstrapBrokers`, which has no resource type in the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedstreamingforapachekafka.html):
 * granted on `*`, the only resource IAM matches it against.
 */
export function mskGetBootstrapBrokersStatement(sid?: string): PolicyStatement {
  return new PolicyStatement({ sid, actions: ['kafka:GetBootstrapBrokers'], resources: ['*'] });
}
