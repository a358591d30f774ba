/**
 * The Kafka topics of the topology, as native AWS::MSK::Topic resources (provisioned clusters with
 * Apache Kafka 3.6 or later, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-msk-topic.html).
 *
 * `Configs` is "topic configurations encoded as a Base64 string" (CreateTopic `--configs`,
 * https://docs.aws.amazon.com/cli/latest/reference/kafka/create-topic.html; the CloudFormation page says
 * the same). What is encoded: the Base64 of a JSON object of topic configuration names to string values.
 * The evidence:
 * - The Terraform AWS provider's aws_msk_topic (hashicorp/terraform-provider-aws,
 *   internal/service/kafka/topic.go) sends `configs` as a JSON document, Base64-encoded ("Configs is
 *   base64encoded in the AWS API"), and reads DescribeTopic's `configs` back by Base64-decoding and then
 *   JSON-decoding it; its acceptance test TestAccKafkaTopic_configs (topic_test.go) creates, imports and
 *   updates a topic against a real cluster with `configs = jsonencode({"retention.ms" = "604800000", ...})`,
 *   which could not pass if MSK answered with anything but JSON.
 * - Against it stands one example: the MSK guide's "Describe a topic using the AWS CLI"
 *   (https://docs.aws.amazon.com/msk/latest/developerguide/describe-topic-cli.html) shows `configs`
 *   decoding to `compression.type=producer` / `retention.ms=604800000` lines, a Java properties text.
 *   It is an example of output, not a statement of the input format; the provider's tests exercise the
 *   API itself, so JSON is what is sent here.
 * Keys are sorted, as Terraform's `jsonencode` sorts them: the same configuration always encodes to
 * the same string, so reordering entries in core/topology.ts never updates a topic.
 *
 * Topics are retained when removed from the template or when the stack is deleted (unless told
 * otherwise): a topic holds data, and a topology edit must not delete it. The cluster itself is
 * deleted with its stack, taking every topic with it.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { CfnTopic } from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { type TopicSpec, topicConfig, topicForCluster } from '../../core/topology';
import type { KafkaClusterRef } from './kafka-access';

/** Topic configuration names that Express brokers fix and refuse to set (they keep two in sync). */
const READ_ONLY_ON_EXPRESS = new Set(['min.insync.replicas']);

/**
 * The `Configs` value of AWS::MSK::Topic: Base64 of the JSON object of topic configuration entries,
 * keys sorted, every value a string (Kafka topic configuration values are strings on the wire).
 */
export function encodeTopicConfigs(configs: Readonly<Record<string, string>>): string {
  const entries = Object.entries(configs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, value] of entries)
    if (typeof value !== 'string')
      throw new Error(`topic configuration ${name} must be a string, not ${JSON.stringify(value)}`);
  return Buffer.from(JSON.stringify(Object.fromEntries(entries)), 'utf8').toString('base64');
}

/** The inverse of {@link encodeTopicConfigs}, for tests and tooling. */
export function decodeTopicConfigs(encoded: string): Record<string, string> {
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, string>;
}

export interface TopicsProps {
  readonly cluster: KafkaClusterRef;
  /** Brokers in the cluster: replication factors are capped by it. */
  readonly brokerCount: number;
  /** Express brokers fix some topic configuration; it is left out for them. @default false */
  readonly expressBrokers?: boolean;
  readonly topics: readonly TopicSpec[];
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class Topics extends Construct {
  /** The AWS::MSK::Topic of each topic, by name. */
  readonly byName: ReadonlyMap<string, CfnTopic>;

  constructor(scope: Construct, id: string, props: TopicsProps) {
    super(scope, id);
    const byName = new Map<string, CfnTopic>();
    for (const spec of props.topics) {
      const topic = topicForCluster(spec, props.brokerCount);
      const configs = Object.fromEntries(
        Object.entries(topicConfig(topic)).filter(
          ([name]) => !(props.expressBrokers && READ_ONLY_ON_EXPRESS.has(name)),
        ),
      );
      const resource = new CfnTopic(this, `Topic-${spec.name}`, {
        clusterArn: props.cluster.clusterArn,
        topicName: topic.name,
        partitionCount: topic.partitions,
        replicationFactor: topic.replicationFactor,
        configs: encodeTopicConfigs(configs),
      });
      resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
      byName.set(spec.name, resource);
    }
    this.byName = byName;
  }
}
