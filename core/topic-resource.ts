/**
 * The contract between the `Custom::KafkaTopics` resource (lib/constructs/kafka-admin-topics.ts) and
 * its handler (lambdas/custom-resources/kafka-topics.ts): the properties CloudFormation passes.
 */
import type { TopicSpec } from './topology';

/** What the resource needs of each topic: the settings AWS::MSK::Topic would be given. */
const TOPIC_SETTINGS = [
  'name',
  'partitions',
  'replicationFactor',
  'minInSyncReplicas',
  'retentionMs',
  'cleanupPolicy',
  'maxMessageBytes',
] as const;
export type TopicSettings = Pick<TopicSpec, (typeof TOPIC_SETTINGS)[number]>;

/** The resource properties (CloudFormation passes every value as a string). */
export interface KafkaTopicsProperties {
  /** The cluster, for the physical id: a new cluster is a new set of topics. */
  readonly ClusterArn: string;
  /** `host:port,host:port` of the listener `KafkaAuth` names. */
  readonly Brokers: string;
  readonly KafkaAuth: string;
  /** JSON array of {@link TopicSettings}. */
  readonly Topics: string;
}

/** The settings of a topic the custom resource creates it with (what AWS::MSK::Topic is given). */
export function topicSettings(spec: TopicSpec): TopicSettings {
  return Object.fromEntries(TOPIC_SETTINGS.map((key) => [key, spec[key]])) as unknown as TopicSettings;
}
