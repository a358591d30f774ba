/**
 * The Kafka topics of the topology, as native AWS::MSK::Topic resources (provisioned clusters with
 * Apache Kafka 3.6 or later, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-msk-topic.html).
 *
 * `Configs` is "topic configurations encoded as a Base64 string": the Base64 of a JSON object of
 * topic configuration names to string values, the encoding the MSK topic API (CreateTopic /
 * DescribeTopic) uses, as the Terraform AWS provider's aws_msk_topic does
 * (hashicorp/terraform-provider-aws, internal/service/kafka/topic.go).
 *
 * Topics are retained when removed from the template or when the stack is deleted (unless told
 * otherwise): a topic holds data, and a topology edit must not delete it. The cluster itself is
 * deleted with its stack, taking every topic with it.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { CfnTopic } from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { type TopicSpec, topicConfig, topicForCluster } from '../topology';
import type { KafkaClusterRef } from './kafka-access';

/** Topic configuration names that Express brokers fix and refuse to set (they keep two in sync). */
const READ_ONLY_ON_EXPRESS = new Set(['min.insync.replicas']);

/** The `Configs` value of AWS::MSK::Topic: Base64 of the JSON object of topic configuration entries. */
export function encodeTopicConfigs(configs: Readonly<Record<string, string>>): string {
  return Buffer.from(JSON.stringify(configs), 'utf8').toString('base64');
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
