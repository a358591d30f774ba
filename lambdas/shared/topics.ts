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
      // Leaders are awaited below: kafkajs' own wait retries only LEADER_NOT_AVAILABLE, while on a
      // cluster of several KRaft brokers the broker it asks may not know a new topic yet
      // (UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition").
      waitForLeaders: false,
      timeout: 30_000,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(topicConfig(t)).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  if (missing.length > 0)
    await leadersOf(
      admin,
      missing.map((t) => t.name),
    );
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

/** Errors a new topic's metadata gives while it propagates to every broker. */
const PROPAGATING =
  /LEADER_NOT_AVAILABLE|UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition|no leader/i;

/** Waits until every partition of `topics` has a leader, or fails after `timeoutMs` naming the topics. */
async function leadersOf(admin: Admin, topics: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = [...topics];
  let lastError = '';
  for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: waiting });
      waiting = metadata
        .filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0))
        .map((t) => t.name);
      if (waiting.length === 0) return;
      lastError = 'partitions without a leader';
    } catch (error) {
      const message = (error as Error).message;
      if (!PROPAGATING.test(`${(error as { type?: string }).type ?? ''} ${message}`)) throw error;
      lastError = message;
    }
    if (Date.now() > deadline)
      throw new Error(`topics without leaders after ${timeoutMs} ms: ${waiting.join(', ')} (${lastError})`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
