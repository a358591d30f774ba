/**
 * The broker the suite runs against: an embedded Apache Kafka started for the run (temporary data
 * directory, free port), or the cluster in KAFKA_BROKERS. Topics of the topology, benchmark topics,
 * and preloading them with source records.
 */
import type { Admin, Kafka } from 'kafkajs';
import { topics as allTopics } from '../../core/topology';
import { ensureTopics } from '../../lambdas/shared/topics';
import { EmbeddedKafka } from '../../local/kafka/broker';
import type { AnyEvent } from '../../schemas/index';
import { bareKafka, bareProducer } from './bare';
import { recordOf, userEvent } from './fixtures';

export interface BenchCluster {
  readonly brokers: string;
  readonly version: string;
  readonly nodes: number | 'external';
  readonly kafka: Kafka;
  readonly admin: Admin;
  /** Topics this run created (deleted at the end on an external cluster). */
  readonly created: string[];
  stop(): Promise<void>;
}

export async function startCluster(log: (line: string) => void): Promise<BenchCluster> {
  const external = process.env.KAFKA_BROKERS?.trim();
  let embedded: EmbeddedKafka | undefined;
  let brokers: string;
  let version = 'external';
  if (external) {
    brokers = external;
  } else {
    embedded = await EmbeddedKafka.start({
      log: (line) => {
        if (!line.startsWith('[kafka') || /\bERROR\b/.test(line)) log(line);
      },
    });
    brokers = embedded.bootstrapServers;
    version = embedded.distribution.version;
    log(`embedded Kafka ${version} on ${brokers}, ready in ${embedded.readyMillis} ms`);
  }
  const kafka = bareKafka(brokers, 'bench');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin);
  await waitForLeaders(
    admin,
    allTopics.map((t) => t.name),
  );
  const created: string[] = [];
  return {
    brokers,
    version,
    nodes: embedded ? embedded.nodes.length : 'external',
    kafka,
    admin,
    created,
    async stop() {
      if (!embedded && created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => {});
      await admin.disconnect().catch(() => {});
      await embedded?.stop();
    },
  };
}

/** Creates a topic for this run (replication 1 on one node, otherwise the topology's 3/2). */
export async function createTopic(cluster: BenchCluster, topic: string, partitions: number): Promise<void> {
  const { brokers } = await cluster.admin.describeCluster();
  const replicationFactor = Math.min(3, brokers.length);
  await cluster.admin.createTopics({
    waitForLeaders: false,
    topics: [
      {
        topic,
        numPartitions: partitions,
        replicationFactor,
        configEntries: [{ name: 'min.insync.replicas', value: String(Math.max(1, replicationFactor - 1)) }],
      },
    ],
  });
  cluster.created.push(topic);
  await waitForLeaders(cluster.admin, [topic]);
}

/**
 * Waits until every partition of `topics` has a leader that answers for it (kafkajs' own
 * waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION while new topics' metadata propagates, and
 * a fresh broker briefly answers NOT_LEADER_OR_FOLLOWER).
 */
async function waitForLeaders(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      for (const topic of topics) await admin.fetchTopicOffsets(topic);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Writes `count` source records (as the producer endpoint frames them) to `topic`, keyed as the
 * producer keys them. Returns the bytes written.
 */
export async function preload(
  cluster: BenchCluster,
  topic: string,
  count: number,
  event: (i: number) => AnyEvent,
): Promise<number> {
  const producer = bareProducer(cluster.kafka);
  await producer.connect();
  let bytes = 0;
  try {
    const chunk = 1000;
    const sends: Promise<unknown>[] = [];
    for (let start = 0; start < count; start += chunk) {
      const messages = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        const { message } = recordOf(event(i));
        bytes += message.value.byteLength;
        messages.push({ key: message.key, value: message.value, headers: { ...message.headers } });
      }
      sends.push(producer.send({ topic, acks: -1, messages }));
      if (sends.length >= 4) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
  } finally {
    await producer.disconnect();
  }
  return bytes;
}

/**
 * Warms the broker up before anything is measured: its JIT, the log segments, and the
 * __consumer_offsets topic that the first consumer group creates (seconds on a fresh broker).
 */
export async function warmUp(cluster: BenchCluster, salt: string, records: number): Promise<void> {
  const topic = `bench-${salt}-warmup`;
  await createTopic(cluster, topic, 6);
  await preload(cluster, topic, records, (i) => userEvent(i, salt));
  const consumer = cluster.kafka.consumer({ groupId: `bench-${salt}-warmup`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let read = 0;
  const deadline = Date.now() + 60_000;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      read += batch.messages.length;
    },
  });
  while (read < records && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await consumer.disconnect();
  // The first idempotent producer creates __transaction_state (50 partitions): seconds, once.
  const idempotent = cluster.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await idempotent.connect();
  await idempotent.send({ topic, acks: -1, messages: [{ key: 'warm', value: 'up' }] });
  await idempotent.disconnect();
}
