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
import type { KafkaWriter, OutgoingMessage, TopicMessages } from '../../core/kafka-records';

/** Kafka did not take the write in time, or could not be reached: retry later. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
}

/** The admin client type, for the modules that manage topics (./topics.ts, the topics resource). */
export type { Admin as KafkaAdmin } from 'kafkajs';
export type { KafkaWriter, OutgoingMessage, TopicMessages } from '../../core/kafka-records';

export interface SharedProducerOptions {
  /** Give up on a send after this long (the caller decides what a timeout means). @default 10000 */
  readonly sendTimeoutMs?: number;
  /**
   * Batches from concurrent callers are merged into one send up to about this many bytes of keys,
   * values and headers. Kafka's default `max.message.bytes` is 1,048,588 and applies to a whole
   * record batch (https://kafka.apache.org/documentation/#topicconfigs_max.message.bytes), so the
   * default keeps a merged partition batch within what the broker takes. A single caller's batch is
   * never split. @default 1000000
   */
  readonly maxMergedBytes?: number;
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

/** A send waiting for its turn. */
interface Waiting {
  readonly batch: readonly TopicMessages[];
  /** Every message names its partition, so the batch can join others and get its own offsets. */
  readonly partitioned: boolean;
  readonly bytes: number;
  resolve(metadata: RecordMetadata[]): void;
  reject(error: unknown): void;
}

/**
 * A producer shared by all invocations of a container.
 *
 * Sends go out one at a time: kafkajs' idempotent producer is not safe for concurrent sends
 * (OUT_OF_ORDER_SEQUENCE_NUMBER,
 * https://github.com/tulios/kafkajs/issues/598). So that concurrent callers do not
 * each wait a round trip, every batch that arrives while a send is in flight joins the next send
 * ("coalescing"): N callers cost one produce request instead of N. Batches are concatenated in the
 * order `send` was called, so per-partition order is the callers' order, and each caller still gets
 * the metadata of its own records: Kafka writes a partition's records of one request contiguously
 * from the returned base offset, so a caller's base offset is that plus the records that callers
 * before it put on the partition. That needs every message to name its partition; a batch with a
 * message left to the partitioner is sent on its own. Merged sends stay under
 * {@link SharedProducerOptions.maxMergedBytes} so that merging never makes a record batch the broker
 * would refuse when each caller's own would have been taken.
 */
export class SharedProducer implements KafkaWriter {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private waiting: Waiting[] = [];
  private draining = false;
  private readonly sendTimeoutMs: number;
  private readonly maxMergedBytes: number;
  /**
   * `sendBatch` calls made (kafkajs makes one produce request per broker for each) and caller
   * batches written by them (benchmarks and tests read these).
   */
  readonly stats = { sends: 0, batches: 0 };

  constructor(
    private readonly kafka: Kafka,
    options: SharedProducerOptions = {},
  ) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.maxMergedBytes = options.maxMergedBytes ?? 1_000_000;
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
    const topics = batch.filter((t) => t.messages.length > 0);
    if (topics.length === 0) return Promise.resolve([]);
    let partitioned = true;
    let bytes = 0;
    for (const t of topics)
      for (const m of t.messages) {
        if (!Number.isInteger(m.partition)) partitioned = false;
        bytes += messageBytes(m);
      }
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch: topics, partitioned, bytes, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.nextGroup();
        let metadata: RecordMetadata[];
        try {
          metadata = await this.write(mergeBatches(group));
        } catch (error) {
          if (group.length > 1 && refusedRecords(error)) await this.sendAlone(group);
          else for (const w of group) w.reject(error);
          continue;
        }
        this.stats.batches += group.length;
        distribute(group, metadata);
      }
    } finally {
      this.draining = false;
    }
  }

  /** One `sendBatch` call, counted. */
  private write(topicMessages: TopicMessages[]): Promise<RecordMetadata[]> {
    this.stats.sends++;
    return this.sendNow(topicMessages);
  }

  /**
   * After the broker refused records of a merged send (one caller's record too large, say), each
   * batch again on its own, so that the others are not failed for it. A produce request is not all
   * or nothing: partitions the broker had already appended keep those records, so the others' records
   * may be written twice (with the same event ids), as when a caller retries. Only for a refusal of
   * records: a connection, authentication or time-out failure fails the whole group at once, since
   * sending again one by one would only make every caller wait longer.
   */
  private async sendAlone(group: readonly Waiting[]): Promise<void> {
    for (const w of group) {
      try {
        const metadata = await this.write([...w.batch]);
        this.stats.batches++;
        distribute([w], metadata);
      } catch (error) {
        w.reject(error);
      }
    }
  }

  /** The batches of the next send: the first waiting one, and the partitioned ones after it that fit. */
  private nextGroup(): Waiting[] {
    const first = this.waiting[0] as Waiting;
    let end = 1;
    if (first.partitioned) {
      let bytes = first.bytes;
      for (; end < this.waiting.length; end++) {
        const next = this.waiting[end] as Waiting;
        if (!next.partitioned || bytes + next.bytes > this.maxMergedBytes) break;
        bytes += next.bytes;
      }
    }
    return this.waiting.splice(0, end);
  }

  private async sendNow(topicMessages: TopicMessages[]): Promise<RecordMetadata[]> {
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
          // kafkajs writes into the message objects it is given; the callers' stay untouched.
          topicMessages: topicMessages.map((t) => ({
            topic: t.topic,
            messages: t.messages.map((m) => ({ ...m })),
          })),
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

/** Roughly what a message adds to a produce request (its record without framing overhead). */
function messageBytes(m: OutgoingMessage): number {
  let bytes =
    m.value.byteLength +
    (m.key === null ? 0 : typeof m.key === 'string' ? m.key.length * 3 : m.key.byteLength);
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    bytes += name.length * 3;
    if (typeof value === 'string') bytes += value.length * 3;
    else if (Buffer.isBuffer(value)) bytes += value.byteLength;
    else if (Array.isArray(value))
      for (const v of value) bytes += typeof v === 'string' ? v.length * 3 : v.byteLength;
  }
  return bytes;
}

/** One batch of the group's batches, topics in first-seen order, messages in the callers' order. */
function mergeBatches(group: readonly Waiting[]): TopicMessages[] {
  if (group.length === 1) return [...(group[0] as Waiting).batch];
  const merged = new Map<string, OutgoingMessage[]>();
  for (const w of group)
    for (const t of w.batch) {
      const messages = merged.get(t.topic);
      if (messages) for (const m of t.messages) messages.push(m);
      else merged.set(t.topic, [...t.messages]);
    }
  return [...merged].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Hands each caller the metadata of its own records: per topic-partition it wrote, the request's
 * entry with the base offset of the caller's first record there (Kafka appends one request's records
 * of a partition contiguously, in order, from that base offset; kafkajs sends a partition's messages
 * as one record batch). A caller a partition of which got no acknowledgement is failed: kafkajs
 * resolves without an entry for a partition it has no leader for (unknown to its metadata), and
 * that write did not happen.
 */
function distribute(group: readonly Waiting[], metadata: readonly RecordMetadata[]): void {
  const acknowledged = new Map<string, { meta: RecordMetadata; next: bigint }>();
  for (const meta of metadata)
    acknowledged.set(`${meta.partition}:${meta.topicName}`, { meta, next: BigInt(meta.baseOffset ?? '0') });
  for (const w of group) {
    if (!w.partitioned) {
      // Sent alone: kafkajs' metadata is the caller's, but every topic must have been written.
      const missing = w.batch.find((t) => !metadata.some((m) => m.topicName === t.topic));
      if (missing) w.reject(unacknowledged(missing.topic));
      else w.resolve([...metadata]);
      continue;
    }
    const mine = new Map<string, { meta: RecordMetadata; count: bigint }>();
    let missing: string | undefined;
    for (const t of w.batch)
      for (const m of t.messages) {
        const key = `${m.partition}:${t.topic}`;
        const entry = mine.get(key);
        if (entry) entry.count++;
        else {
          const ack = acknowledged.get(key);
          if (ack) mine.set(key, { meta: { ...ack.meta, baseOffset: ack.next.toString() }, count: 1n });
          else missing ??= `${t.topic}, partition ${m.partition}`;
        }
      }
    for (const [key, { count }] of mine) {
      const ack = acknowledged.get(key) as { next: bigint };
      ack.next += count;
    }
    if (missing) w.reject(unacknowledged(missing));
    else w.resolve([...mine.values()].map((e) => e.meta));
  }
}

function unacknowledged(where: string): KafkaUnavailableError {
  return new KafkaUnavailableError(
    `Kafka did not acknowledge the write to ${where} (no leader known for it, or no such partition)`,
  );
}

/**
 * Protocol errors by which the broker refuses the records themselves, not the request
 * (https://kafka.apache.org/protocol#protocol_error_codes); kafkajs wraps them, so causes are followed.
 */
const RECORD_REFUSALS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
]);

function refusedRecords(error: unknown): boolean {
  for (let e = error as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.type === 'string' && RECORD_REFUSALS.has(e.type)) return true;
    e = e.cause as typeof e;
  }
  return false;
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
export function sharedProducer(
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
