/** kafkajs clients for tests, quiet unless something is wrong. */
import '../../lambdas/shared/kafkajs-fix';
import { Kafka, logLevel, Partitioners, type RetryOptions } from 'kafkajs';

/**
 * kafkajs logs retriable errors (leader elections, coordinator loading) at ERROR level, which
 * buries real failures in noise; tests assert outcomes instead. KAFKAJS_LOG=debug|info|warn|error
 * turns the client's log back on.
 */
const level = { debug: logLevel.DEBUG, info: logLevel.INFO, warn: logLevel.WARN, error: logLevel.ERROR }[
  process.env.KAFKAJS_LOG ?? ''
];

export function testKafka(brokers: string, clientId = 'test', retry: RetryOptions = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: level ?? logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000, ...retry },
  });
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
