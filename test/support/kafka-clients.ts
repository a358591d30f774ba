/** kafkajs clients for tests, quiet unless something is wrong, built by the project's one factory. */
import { type Kafka, Partitioners, type RetryOptions } from 'kafkajs';
import { createKafka, type KafkaClientTuning, SharedProducer } from '../../lambdas/shared/kafka';

/**
 * kafkajs logs retriable errors (leader elections, coordinator loading) at ERROR level, which
 * buries real failures in noise; tests assert outcomes instead. KAFKAJS_LOG=debug|info|warn|error
 * turns the client's log back on.
 */
const levels = ['debug', 'info', 'warn', 'error'] as const;
const level = levels.find((l) => l === process.env.KAFKAJS_LOG);

/** kafkajs' own connection and request timeouts (1 s, 30 s), as the tests have always used. */
export function testKafka(brokers: string, clientId = 'test', retry: RetryOptions = {}): Kafka {
  const tuning: KafkaClientTuning = {
    logLevel: level ?? 'nothing',
    connectionTimeout: 1000,
    requestTimeout: 30_000,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000, ...retry },
  };
  return createKafka(
    { clientId, brokers: brokers.split(','), auth: 'plaintext', region: undefined },
    undefined,
    tuning,
  );
}

/**
 * A producer that waits for every in-sync replica and is idempotent, so its own retries (after a
 * leader change, say) cannot write a record twice; Java-compatible partitioner.
 */
export function durableProducer(kafka: Kafka) {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
}

/** A unique suffix for names that tests create on a shared broker. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface ReadMessage {
  readonly topic: string;
  readonly partition: number;
  readonly message: import('kafkajs').KafkaMessage;
}

/**
 * Reads `topics` from the beginning with a fresh consumer group until `expected` messages pass
 * `keep`, or `timeoutMs` elapses (then returns what it has, so the assertion shows the difference).
 */
export async function readUntil(
  kafka: Kafka,
  topics: readonly string[],
  keep: (m: ReadMessage) => boolean,
  expected: number,
  timeoutMs = 20_000,
): Promise<ReadMessage[]> {
  const kept: ReadMessage[] = [];
  const consumer = kafka.consumer({ groupId: unique('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const timer = setTimeout(() => done(), timeoutMs);
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const m = { topic, partition, message };
      if (keep(m)) kept.push(m);
      if (kept.length >= expected) done();
    },
  });
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return kept;
}

/** The functions' shared producer pointed at the test broker, logging only when KAFKAJS_LOG asks. */
export function testWriter(brokers: string, clientId: string): SharedProducer {
  const settings = { brokers: brokers.split(','), auth: 'plaintext' as const, region: undefined, clientId };
  return new SharedProducer(createKafka(settings, level === undefined ? () => {} : undefined));
}
