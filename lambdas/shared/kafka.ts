/**
 * Kafka access for the functions: the one module that knows kafkajs, so the client could be swapped
 * without touching handlers.
 *
 * - Auth by configuration: MSK IAM (TLS + SASL OAUTHBEARER with a token from
 *   aws-msk-iam-sasl-signer-js, https://github.com/aws/aws-msk-iam-sasl-signer-js) in AWS, plaintext on
 *   a local broker.
 * - One producer per container: created at first use, reused by every invocation, reconnected after a
 *   connection error. MSK allows 3,000 TCP connections per broker and limits
 *   the rate of new ones (https://docs.aws.amazon.com/msk/latest/developerguide/limits.html), so a
 *   connection per invocation would not scale; MSK also closes idle connections (kafkajs#979), which
 *   is why a failed send drops the producer and the next send reconnects.
 * - Durable writes: acks from all in-sync replicas (with the topics' min.insync.replicas=2), retries
 *   with exponential backoff, and an idempotent producer, so kafkajs' retry after a lost
 *   acknowledgement cannot duplicate a record. That holds within one producer session (one producer
 *   id): a send that fails drops the producer, and a caller retrying it writes under a new id, so
 *   the broker cannot tell its records from the first attempt's. kafkajs marks idempotence experimental; it works against Apache Kafka
 *   4.4 locally (test/integration), and MSK supports it with IAM given
 *   `kafka-cluster:WriteDataIdempotently` on the cluster
 *   (https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html). kafkajs requires
 *   `maxInFlightRequests: 1` with idempotence, which also keeps per-partition order across retries.
 * - Every kafkajs client of the project is built by {@link createKafka} (the functions, the local
 *   runtime and its embedded broker's readiness probe, the operator tools, the tests); only the
 *   benchmark's bare baselines (bench/) build their own on purpose. kafkajs itself is patched at
 *   install (patches/kafkajs+2.2.4.patch, applied by `patch-package` from the `postinstall` script):
 *   2.2.4 re-arms a 1 ms timer forever on every idle connection (tulios/kafkajs#1751, #1556).
 */
// Only the names Node's CommonJS interop detects are imported by name from kafkajs (Kafka, logLevel,
// Partitioners...); its error classes are not among them, so errors are recognised by name.
import {
  Kafka,
  logLevel,
  Partitioners,
  type Producer,
  type RecordMetadata,
  type RetryOptions,
} from 'kafkajs';
import type { KafkaSettings } from '../../core/env';
import type { KafkaWriter, TopicMessages } from '../../core/kafka-records';

import { KafkaUnavailableError } from './kafka-errors';

/** The admin client type, for the modules that manage topics (./topics.ts, the topics resource). */
export type { Admin as KafkaAdmin } from 'kafkajs';
export type { KafkaWriter, OutgoingMessage, TopicMessages } from '../../core/kafka-records';
export { KafkaUnavailableError };

export interface SharedProducerOptions {
  /** Give up on a send after this long (the caller decides what a timeout means). @default 10000 */
  readonly sendTimeoutMs?: number;
}

/** Where kafkajs' own log lines go (the functions pass their Powertools logger). */
export type KafkaLog = (
  level: 'error' | 'warn' | 'info' | 'debug',
  message: string,
  details: Record<string, unknown>,
) => void;

const LEVELS: Record<string, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};
const NAMES: Partial<Record<logLevel, 'error' | 'warn' | 'info' | 'debug'>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Client settings a caller may set instead of the functions' defaults (kafkajs' names). */
export interface KafkaClientTuning {
  /** Milliseconds to wait for a connection. @default 3000 */
  readonly connectionTimeout?: number;
  /** Milliseconds to wait for a response. @default 10000 */
  readonly requestTimeout?: number;
  /** Replaces the whole retry policy. @default { retries: 5, initialRetryTime: 100, maxRetryTime: 3000 } */
  readonly retry?: RetryOptions;
  /** Log level, instead of KAFKAJS_LOG_LEVEL. */
  readonly logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
}

/**
 * A kafkajs client for `settings`: the only place a client is built. Its log goes to `log` (kafkajs'
 * console logger without it) at the level in `tuning.logLevel`, else KAFKAJS_LOG_LEVEL (nothing,
 * error, warn, info, debug; default warn).
 */
export function createKafka(settings: KafkaSettings, log?: KafkaLog, tuning: KafkaClientTuning = {}): Kafka {
  const level = (tuning.logLevel ?? process.env.KAFKAJS_LOG_LEVEL ?? 'warn').toLowerCase();
  const common = {
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    connectionTimeout: tuning.connectionTimeout ?? 3000,
    requestTimeout: tuning.requestTimeout ?? 10_000,
    logLevel: LEVELS[level] ?? logLevel.WARN,
    retry: tuning.retry ?? { retries: 5, initialRetryTime: 100, maxRetryTime: 3000 },
    ...(log
      ? {
          logCreator:
            () =>
            ({
              level,
              log: entry,
            }: {
              level: logLevel;
              log: { message: string } & Record<string, unknown>;
            }) => {
              // kafkajs' own timestamp and logger name would clash with the logger's reserved keys.
              const { message, timestamp: _t, logger: _l, ...details } = entry;
              log(NAMES[level] ?? 'info', `kafkajs: ${message}`, details);
            },
        }
      : {}),
  };
  if (settings.auth === 'plaintext') return new Kafka(common);
  const region = settings.region as string;
  return new Kafka({
    ...common,
    ssl: true,
    authenticationTimeout: 10_000,
    sasl: {
      mechanism: 'oauthbearer',
      // The signer returns { token, expiryTime }; kafkajs wants { value }.
      oauthBearerProvider: async () => {
        const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
        const { token } = await generateAuthToken({ region });
        return { value: token };
      },
    },
  });
}

/**
 * A producer shared by all invocations of a container: one produce request per `send`.
 *
 * Sends go out one at a time: kafkajs' idempotent producer is not safe for concurrent sends
 * (OUT_OF_ORDER_SEQUENCE_NUMBER, https://github.com/tulios/kafkajs/issues/598). On Lambda that costs
 * nothing: in Lambda's default single-concurrency model an execution environment handles its requests
 * one after another ("For each concurrent request, Lambda provisions a separate instance of your
 * execution environment", https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html), and
 * each invocation of these functions makes one send. (Lambda Managed Instances, which send one
 * environment many requests at once, https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-runtimes.html,
 * are not used by this stack; sends would still be correct there, one at a time.) A process serving
 * many requests at once, the local runtime, hands the functions a writer that merges concurrent sends
 * instead (local/coalescing-writer.ts, built on {@link SharedProducer.write}).
 */
export class SharedProducer implements KafkaWriter {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  /** The send in flight (or the last one), which the next waits for. */
  private previous: Promise<unknown> = Promise.resolve();
  private readonly sendTimeoutMs: number;

  constructor(
    private readonly kafka: Kafka,
    options: SharedProducerOptions = {},
  ) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // The Java client's murmur2 partitioner (kafkajs' default since 2.0), named so kafkajs does not warn.
        createPartitioner: Partitioners.DefaultPartitioner,
        // No retry limit: kafkajs warns that a limit can break an idempotent producer's guarantees;
        // the send deadline bounds how long a caller waits, and a failed send drops the producer.
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 3000 },
      });
      producer.on(producer.events.DISCONNECT, () => {
        if (this.producer === producer) this.producer = undefined;
      });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Writes the batch in one produce request and answers kafkajs' metadata, once every partition
   * written was acknowledged: kafkajs resolves without an entry for a partition it has no leader for
   * (unknown to its metadata), and that write did not happen.
   */
  async send(batch: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    const topics = batch.filter((t) => t.messages.length > 0);
    if (topics.length === 0) return [];
    const metadata = await this.write(topics);
    for (const t of topics) {
      // The partitions acknowledged for the topic, then each message's partition looked up there.
      const acknowledged = new Set<number>();
      for (const m of metadata) if (m.topicName === t.topic) acknowledged.add(m.partition);
      for (const m of t.messages) {
        const partition = m.partition;
        if (partition !== undefined && Number.isInteger(partition) && !acknowledged.has(partition))
          throw unacknowledged(`${t.topic}, partition ${partition}`);
      }
      if (acknowledged.size === 0) throw unacknowledged(t.topic);
    }
    return metadata;
  }

  /**
   * One produce request with `topicMessages` as given, after the send before it, answered with
   * kafkajs' metadata unchecked: for writers that check the acknowledgements themselves.
   */
  write(topicMessages: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    const write = this.previous.then(() => this.sendNow(topicMessages));
    this.previous = write.catch(() => {});
    return write;
  }

  private async sendNow(topicMessages: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new KafkaUnavailableError(`Kafka did not acknowledge the write within ${this.sendTimeoutMs} ms`),
          ),
        this.sendTimeoutMs,
      );
    });
    try {
      const write = (async () =>
        (await this.connected()).sendBatch({
          acks: -1,
          timeout: this.sendTimeoutMs,
          // Handed over as they are, not copied: kafkajs 2.2.4 only reads the messages (producer/
          // messageProducer.js, sendMessages.js, groupMessagesPerPartition.js and the produce
          // request's encoder build their own objects around them), which
          // test/integration/shared-producer.test.ts checks.
          topicMessages: topicMessages as TopicMessages[] as Parameters<
            Producer['sendBatch']
          >[0]['topicMessages'],
        }))();
      return await Promise.race([write, deadline]);
    } catch (error) {
      // Start from a fresh connection next time: the broker may have closed an idle one, or moved.
      await this.reset();
      if (error instanceof KafkaUnavailableError) throw error;
      if ((error as Error).name?.startsWith('KafkaJS')) {
        throw new KafkaUnavailableError(`Kafka write failed: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => {});
  }

  /** Disconnects; the next send connects again. */
  async disconnect(): Promise<void> {
    await this.reset();
  }
}

/** A write kafkajs answered without an acknowledgement for `where`. */
export function unacknowledged(where: string): KafkaUnavailableError {
  return new KafkaUnavailableError(
    `Kafka did not acknowledge the write to ${where} (no leader known for it, or no such partition)`,
  );
}

let shared: SharedProducer | undefined;

/**
 * The container's producer for `settings`, created at first call.
 *
 * Nothing disconnects it in Lambda, and no SIGTERM handler is registered for that: Lambda sends the
 * runtime SIGTERM at shutdown only when the function has a registered extension, and these functions
 * have none ("Lambda execution environment lifecycle", shutdown phase,
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown;
 * AWS's sample https://github.com/aws-samples/graceful-shutdown-with-aws-lambda: "For a function with
 * registered external extensions, Lambda supports graceful shutdown"). A handler would never run, and
 * it would guard nothing: every send is awaited inside the invocation that made it (kafkajs keeps no
 * client-side buffer), so an environment shut down between invocations holds no unsent record; its
 * connections end with it and the broker closes its side once idle
 * (`connections.max.idle.ms`, https://kafka.apache.org/documentation/#brokerconfigs_connections.max.idle.ms).
 * Elsewhere (the local runtime, tests, benchmarks) the process that owns the handler disconnects it
 * with {@link disconnectSharedProducer}.
 */
function sharedProducer(
  settings: KafkaSettings,
  options?: SharedProducerOptions & { log?: KafkaLog },
): SharedProducer {
  shared ??= new SharedProducer(createKafka(settings, options?.log), options);
  return shared;
}

/** Disconnects the container's producer, if there is one (local runtime and tests). */
export async function disconnectSharedProducer(): Promise<void> {
  const producer = shared;
  shared = undefined;
  await producer?.disconnect();
}

/**
 * Makes a function's writer from its Kafka settings and its log. The functions use
 * {@link containerWriter}; a process that runs them itself may pass its own to their `createHandler`
 * (the local runtime passes local/coalescing-writer.ts).
 */
export type WriterFactory = (settings: KafkaSettings, log: KafkaLog) => KafkaWriter;

/** What a function's `createHandler` takes; its `handler` export is `createHandler()`. */
export interface HandlerOptions {
  /** @default containerWriter */
  readonly writer?: WriterFactory;
}

/** The container's producer ({@link sharedProducer}), as a {@link WriterFactory}. */
export const containerWriter: WriterFactory = (settings, log) => sharedProducer(settings, { log });
