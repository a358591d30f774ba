/**
 * Creates the topology's topics on a Kafka cluster, as the CDK stack does on MSK. Topics that exist
 * are left alone (a second start reuses them); a topic whose partition count differs from the
 * topology is reported, since Kafka cannot shrink partitions and growing them re-maps keys.
 */
import { topics as allTopics, type TopicSpec, topicConfig, topicForCluster } from '../../core/topology';
import type { KafkaAdmin as Admin } from './kafka';

export interface EnsureTopicsResult {
  readonly created: string[];
  readonly existing: string[];
  /** Existing topics whose partition count differs from the topology. */
  readonly mismatched: { topic: string; partitions: number; expected: number }[];
}

/** Creates every missing topic of `topics` on the cluster `admin` is connected to. */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[] = allTopics,
): Promise<EnsureTopicsResult> {
  const { brokers } = await admin.describeCluster();
  const present = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !present.has(t.name)).map((t) => topicForCluster(t, brokers.length));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      timeout: 30_000,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(topicConfig(t)).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const existing = topics.filter((t) => present.has(t.name));
  const mismatched: EnsureTopicsResult['mismatched'] = [];
  if (existing.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existing.map((t) => t.name) });
    for (const meta of metadata.topics) {
      const expected = existing.find((t) => t.name === meta.name)?.partitions ?? 0;
      if (meta.partitions.length !== expected) {
        mismatched.push({ topic: meta.name, partitions: meta.partitions.length, expected });
      }
    }
  }
  return { created: missing.map((t) => t.name), existing: existing.map((t) => t.name), mismatched };
}
