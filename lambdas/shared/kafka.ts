/**
 * Kafka access for the functions: the one module that knows kafkajs, so the client could be swapped
 * without touching handlers.
 *
 * - Auth by configuration: MSK IAM (TLS + SASL OAUTHBEARER with a token from
 *   aws-msk-iam-sasl-signer-js, https://github.com/aws/aws-msk-iam-sasl-signer-js) in AWS, plaintext on
 *   a local broker.
 * - One producer per container: created at first use, reused by every invocation, reconnected after a
 *   connection error, disconnected on SIGTERM. MSK allows 3,000 TCP connections per broker and limits
 *   the rate of new ones (https://docs.aws.amazon.com/msk/latest/developerguide/limits.html), so a
 *   connection per invocation would not scale; MSK also closes idle connections (kafkajs#979), which
 *   is why a failed send drops the producer and the next send reconnects.
 * - Durable writes: acks from all in-sync replicas (with the topics' min.insync.replicas=2), retries
 *   with exponential backoff, and an idempotent producer, so a retry after a lost acknowledgement
 *   cannot duplicate a record. kafkajs marks idempotence experimental; it works against Apache Kafka
 *   4.4 locally (test/integration), and MSK supports it with IAM given
 *   `kafka-cluster:WriteDataIdempotently` on the cluster
 *   (https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html). kafkajs requires
 *   `maxInFlightRequests: 1` with idempotence, which also keeps per-partition order across retries.
 */
import './kafkajs-fix';
// Only the names Node's CommonJS interop detects are imported by name from kafkajs (Kafka, logLevel,
// Partitioners...); its error classes are not among them, so errors are recognised by name.
import { type IHeaders, Kafka, logLevel, Partitioners, type Producer, type RecordMetadata } from 'kafkajs';
import type { KafkaSettings } from './env';

/** Kafka did not take the write in time, or could not be reached: retry later. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
}

export interface OutgoingMessage {
  readonly key: Buffer | string | null;
  readonly value: Buffer;
  readonly headers?: IHeaders;
  /** Explicit partition; otherwise the Java-compatible murmur2 partitioner picks one from the key. */
  readonly partition?: number;
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

/** What callers need of a producer; tests and benchmarks may pass their own. */
export interface KafkaWriter {
  /** Writes every message, or throws {@link KafkaUnavailableError}. */
  send(batch: readonly TopicMessages[]): Promise<RecordMetadata[]>;
}

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

/**
 * A kafkajs client for `settings`. Its log goes to `log` at the level in KAFKAJS_LOG_LEVEL
 * (nothing, error, warn, info, debug; default warn).
 */
export function createKafka(settings: KafkaSettings, log?: KafkaLog): Kafka {
  const common = {
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    logLevel: LEVELS[(process.env.KAFKAJS_LOG_LEVEL ?? 'warn').toLowerCase()] ?? logLevel.WARN,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 3000 },
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

/** A producer shared by all invocations of a container. */
export class SharedProducer implements KafkaWriter {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  /** Sends run one at a time: kafkajs' idempotent producer is not safe for concurrent sends. */
  private queue: Promise<unknown> = Promise.resolve();
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

  send(batch: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    const result = this.queue.then(() => this.sendNow(batch));
    this.queue = result.catch(() => {});
    return result;
  }

  private async sendNow(batch: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    const topicMessages = batch
      .filter((t) => t.messages.length > 0)
      .map((t) => ({ topic: t.topic, messages: t.messages.map((m) => ({ ...m })) }));
    if (topicMessages.length === 0) return [];
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
        (await this.connected()).sendBatch({ acks: -1, timeout: this.sendTimeoutMs, topicMessages }))();
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

let shared: SharedProducer | undefined;

/**
 * The container's producer for `settings`, created at first call. In Lambda it also registers a
 * SIGTERM handler that disconnects it and exits: Lambda sends SIGTERM before shutting an execution
 * environment down when an extension is registered
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown).
 * Elsewhere (the local runtime, tests) the process that owns the handler disconnects it.
 */
export function sharedProducer(
  settings: KafkaSettings,
  options?: SharedProducerOptions & { log?: KafkaLog },
): SharedProducer {
  if (!shared) {
    const producer = new SharedProducer(createKafka(settings, options?.log), options);
    shared = producer;
    if (process.env.AWS_LAMBDA_RUNTIME_API) {
      process.once('SIGTERM', () => {
        void producer.disconnect().finally(() => process.exit(0));
      });
    }
  }
  return shared;
}

/** Disconnects the container's producer, if there is one (local runtime and tests). */
export async function disconnectSharedProducer(): Promise<void> {
  const producer = shared;
  shared = undefined;
  await producer?.disconnect();
}
