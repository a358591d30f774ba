/**
 * A local Lambda event-source mapping for one function: reads a topic as its consumer group and
 * invokes the handler the way the MSK event-source mapping does, with the settings given in the
 * Lambda API's names (./settings.ts). It knows no project: give it a handler, a Kafka cluster, the
 * settings and, for the schema-registry step, a registry. README.md in this folder documents the API.
 *
 * Per partition, in offset order:
 * 1. Schema registry (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html):
 *    a value that is not a valid Glue-framed record is sent to the on-failure destination as
 *    DESERIALIZATION_ERROR, one whose schema version is unknown as SCHEMA_NOT_FOUND, one that fails
 *    validation (SchemaValidationConfigs VALUE) as DESERIALIZATION_ERROR. EventRecordFormat JSON
 *    delivers the JSON with `valueSchemaMetadata`; SOURCE delivers the payload in its source format
 *    with the schema metadata (the Glue header) removed.
 * 2. Filters on `value`: on the deserialized JSON with the schema registry, otherwise on the value's
 *    bytes as JSON or text; records matching no pattern are skipped and committed.
 * 3. A record that cannot fit an invocation payload goes to the destination as
 *    MaximumPayloadSizeExceeded without invoking.
 * 4. Records older than MaximumRecordAgeInSeconds go to the on-failure destination, wherever they
 *    are in the batch (CreateTime timestamps need not be in offset order).
 * 5. The function is invoked when BatchSize records are there, when MaximumBatchingWindowInSeconds
 *    has passed since the batch's first record was read, or when the next record would take the
 *    payload past 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching).
 * 6. Success commits the batch's offsets (at least once: nothing is committed before success). A
 *    partial batch response commits up to the lowest failed offset and retries from there; one
 *    Lambda cannot read fails the whole batch. A function error or timeout retries the batch, split
 *    in two first when BisectBatchOnFunctionError is on, until MaximumRetryAttempts (10 when
 *    infinite with an on-failure destination); then each record goes to the destination, in the
 *    layout Lambda writes (core/dead-letter.ts), and is committed.
 *
 * The consumer heartbeats while the function runs, and its rebalance timeout covers the function
 * timeout, so a long invocation does not get the mapping evicted from its group.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Consumer,
  type EachBatchPayload,
  Kafka,
  type KafkaMessage,
  logLevel,
  type Producer,
} from 'kafkajs';
import { asMappingFailure, emptyValue, parsePayload, schemaNotFound, unframe } from '../../core/classify';
import { type DeliveryHistory, deadLetterFor, deadLetterMessage, PoisonRecord } from '../../core/dead-letter';
import type { KafkaWriter } from '../../core/kafka-records';
import type { DecodedRecord, KafkaBatchResponse, MskEvent, MskRecord } from '../../core/msk-event';
import { decodeMskEvent } from '../../core/msk-event';
import { type AsyncHandler, invoke, localFunctionArn } from '../lambda';
import { type FilterSubject, kafkaValue, passesFilters } from './filters';
import { toMskEvent, toMskRecord } from './msk-records';
import { type MskEventSourceMappingSettings, type ResolvedSettings, resolveSettings } from './settings';

/** Lambda's synchronous invocation payload limit (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** With infinite retries and an on-failure destination, Lambda caps retries at 10
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html). */
export const RETRIES_WITH_DESTINATION = 10;
/** Bytes of the invocation event around its records (estimate). */
const EVENT_OVERHEAD_BYTES = 512;
/** While a partial batch waits for its window, how often the partition is read again. */
const WINDOW_POLL_MS = 100;

export type MappingState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** What a mapping reports to the runtime's metrics and live view. */
export interface MappingObserver {
  invoked?(mapping: string, records: number, durationMs: number, ok: boolean): void;
  /** Records the function processed: its invocation succeeded and did not report them as failed. */
  processed?(mapping: string, records: number): void;
  deadLettered?(mapping: string, condition: string, records: number): void;
  filtered?(mapping: string, records: number): void;
  committed?(mapping: string, partition: number, offset: string): void;
}

/** A problem of a value against its schema version: where (a JSON pointer or path) and what. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

/** A schema version the registry knows. */
export interface SchemaVersion {
  /** A name for messages and dead letters (e.g. the schema's name). @default the schema version id */
  readonly name?: string;
  /** The problems of `json` against this schema version, none when it conforms. */
  validate(json: unknown): readonly SchemaIssue[];
}

/**
 * The schema registry of the schema-registry step (SchemaRegistryConfig): looks up the schema version
 * id of a record's Glue header. `undefined` is a version the registry does not have (SCHEMA_NOT_FOUND).
 */
export interface SchemaRegistry {
  lookup(schemaVersionId: string): Promise<SchemaVersion | undefined>;
}

/**
 * A handler of MSK events, as the function exports it. What it returns is read as Lambda reads it:
 * a partial batch response (`KafkaBatchResponse`) with ReportBatchItemFailures, otherwise ignored.
 */
export type MskHandler = AsyncHandler<MskEvent, unknown>;

export interface LocalEventSourceMappingOptions {
  /** The function's name: the mapping's name in logs, metrics and the dead letters' `functionArn`. */
  readonly functionName: string;
  /** The topic the mapping reads (the API's `Topics`, one topic). */
  readonly topic: string;
  readonly handler: MskHandler;
  /** The cluster, as a kafkajs client; or give `brokers`. */
  readonly kafka?: Kafka;
  /** The cluster's bootstrap brokers (`host:port`, a list or comma-separated), when no `kafka` is given. */
  readonly brokers?: string | readonly string[];
  /** The mapping's settings, in the Lambda API's names. */
  readonly settings: MskEventSourceMappingSettings;
  /** Needed with SchemaRegistryConfig: where the schema versions of records' Glue headers are looked up. */
  readonly schemaRegistry?: SchemaRegistry;
  /** The function's timeout and memory. @default Lambda's: 3 s, 128 MB */
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
  /**
   * Writes dead letters to the on-failure destination. @default a kafkajs producer on the cluster
   * (acks from all in-sync replicas), connected at start.
   */
  readonly writer?: KafkaWriter;
  /** The event's `bootstrapServers`. @default `brokers`, joined with commas (required with `kafka`) */
  readonly bootstrapServers?: string;
  /** The event's `eventSourceArn`. @default a local cluster ARN */
  readonly eventSourceArn?: string;
  readonly observer?: MappingObserver;
  /** Delay before the first retry of a failed batch, doubled each time up to 2 s. @default 100 */
  readonly retryBackoffMs?: number;
  /**
   * The consumer's session timeout. A mapping that died without leaving (SIGKILL) is evicted after
   * it, so a restarted one gets its partitions back quickly; a live one heartbeats, also while the
   * function runs. @default 10000
   */
  readonly sessionTimeoutMs?: number;
  readonly log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    details?: Record<string, unknown>,
  ) => void;
}

/** Where local mappings say their events come from, unless told. */
export const LOCAL_CLUSTER_ARN = 'arn:aws:kafka:local:000000000000:cluster/local/local';
/** Lambda's defaults for a function's timeout and memory (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html). */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

/**
 * A record read from the partition and what the mapping made of it. The record as read (for dead
 * letters) is built again from the kafkajs message when needed, not kept: most records are never
 * dead-lettered, and a second base64 copy of every value held until commit costs memory and CPU.
 */
interface Prepared {
  /** The record as delivered to the function (after the schema-registry step). */
  readonly delivered: MskRecord;
  /** Its share of an invocation payload, estimated. */
  readonly size: number;
}

interface Pending extends Prepared {
  readonly message: KafkaMessage;
}

/** What the schema-registry step makes of a value: why it cannot be delivered, or what to deliver. */
type Deserialized = PoisonRecord | { json: unknown; payload: Buffer; schemaVersionId: string };

interface History {
  invokeCount: number;
  firstFailureAt?: Date;
  lastError?: string;
  responseContext?: DeliveryHistory['responseContext'];
}

/** Why a partial batch response cannot be read, or the index of its lowest failed record (-1: none). */
export type ItemFailures = { readonly lowest: number } | { readonly invalid: string };

export class LocalEventSourceMapping {
  state: MappingState = 'stopped';
  lastError: string | undefined;
  /** The settings as given. */
  readonly settings: MskEventSourceMappingSettings;
  /** The settings as this mapping runs them, AWS's defaults applied. */
  readonly resolved: ResolvedSettings;
  private readonly kafka: Kafka;
  private readonly bootstrapServers: string;
  private readonly eventSourceArn: string;
  private readonly fn: { readonly name: string; readonly timeoutSeconds: number; readonly memoryMb: number };
  private consumer: Consumer | undefined;
  /** The producer of the default dead-letter writer, connected while running. */
  private producer: Producer | undefined;
  private readonly writer: KafkaWriter;
  private readonly maxRetries: number;
  private readonly maxRecordAgeSeconds: number;
  /**
   * Per partition, what the mapping already did with records it read but has not committed yet
   * (records held for the batching window are read again): a record is dead-lettered or filtered
   * once, not at every read.
   */
  private readonly prepared = new Map<number, Map<string, Prepared | 'skip'>>();
  /** Per partition, when the first record of the batch being gathered was read. */
  private readonly windowStart = new Map<number, number>();
  /**
   * Schema versions found in the registry, by id. A Glue schema version id names one definition for
   * good (a new definition is registered as a new version with its own id:
   * https://docs.aws.amazon.com/glue/latest/webapi/API_RegisterSchemaVersion.html), so a version found
   * once is not looked up again; an id not found is asked again at its next record.
   */
  private readonly schemaVersions = new Map<string, SchemaVersion>();

  /** Checks the options and settings (a clear error for each problem); connects to nothing before `start`. */
  constructor(private readonly options: LocalEventSourceMappingOptions) {
    const name = options?.functionName;
    if (typeof name !== 'string' || name === '')
      throw new TypeError('LocalEventSourceMapping: functionName must be a non-empty string');
    const where = `LocalEventSourceMapping ${name}`;
    if (typeof options.topic !== 'string' || options.topic === '')
      throw new TypeError(`${where}: topic must be a non-empty string`);
    if (typeof options.handler !== 'function') throw new TypeError(`${where}: handler must be a function`);
    const m = resolveSettings(options.settings, where);
    if (m.schemaRegistry && !options.schemaRegistry)
      throw new TypeError(
        `${where}: SchemaRegistryConfig is set, so a schemaRegistry option is needed to look up schema versions`,
      );
    const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
    // Lambda's limits: a timeout of 1–900 s, 128–10,240 MB of memory (API_CreateFunction.html).
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900)
      throw new RangeError(
        `${where}: timeoutSeconds must be an integer from 1 to 900, not ${timeoutSeconds}`,
      );
    if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10_240)
      throw new RangeError(`${where}: memoryMb must be an integer from 128 to 10240, not ${memoryMb}`);
    this.fn = { name, timeoutSeconds, memoryMb };

    const brokers =
      options.brokers === undefined
        ? undefined
        : (typeof options.brokers === 'string' ? options.brokers.split(',') : [...options.brokers])
            .map((b) => b.trim())
            .filter((b) => b !== '');
    if (options.kafka) this.kafka = options.kafka;
    else if (brokers && brokers.length > 0)
      this.kafka = new Kafka({ clientId: `esm-${name}`, brokers, logLevel: logLevel.NOTHING });
    else throw new TypeError(`${where}: give the cluster as kafka (a kafkajs Kafka) or brokers (host:port)`);
    const bootstrapServers = options.bootstrapServers ?? brokers?.join(',');
    if (!bootstrapServers)
      throw new TypeError(
        `${where}: with a kafka client, give bootstrapServers (the events' bootstrapServers)`,
      );
    this.bootstrapServers = bootstrapServers;
    this.eventSourceArn = options.eventSourceArn ?? LOCAL_CLUSTER_ARN;
    this.writer = options.writer ?? {
      send: async (batch) => {
        if (!this.producer)
          throw new Error(`${where}: the dead-letter producer is not connected (not started)`);
        return this.producer.sendBatch({
          acks: -1,
          topicMessages: batch.map((t) => ({ topic: t.topic, messages: [...t.messages] })),
        });
      },
    };

    this.settings = options.settings;
    this.resolved = m;
    const retries = m.maximumRetryAttempts;
    this.maxRetries = retries === -1 && m.onFailureTopic ? RETRIES_WITH_DESTINATION : retries;
    this.maxRecordAgeSeconds = m.maximumRecordAgeSeconds;
  }

  get name(): string {
    return this.fn.name;
  }

  /** Joins the consumer group at the configured starting position and starts polling. */
  async start(): Promise<void> {
    const m = this.resolved;
    this.state = 'starting';
    if (!this.options.writer && m.onFailureTopic) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
      await this.producer.connect();
    }
    await this.applyStartingPosition();
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer = this.kafka.consumer({
      groupId: m.consumerGroupId,
      // The broker answers a fetch as soon as there is a record; the batching window is applied here
      // (see onBatch), so a full batch is not held back by it.
      maxWaitTimeInMs: 500,
      minBytes: 1,
      maxBytesPerPartition: MAX_PAYLOAD_BYTES,
      allowAutoTopicCreation: false,
      sessionTimeout,
      heartbeatInterval: Math.max(100, Math.min(1000, Math.floor(sessionTimeout / 3))),
      // A member must rejoin within the rebalance timeout; one that is invoking rejoins after the
      // invocation, which may run for the whole function timeout.
      rebalanceTimeout: Math.max(60_000, this.fn.timeoutSeconds * 1000 + sessionTimeout),
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      this.lastError = String(e.payload.error?.message ?? e.payload.error);
      if (!e.payload.restart) this.state = 'failed';
    });
    // A new assignment: what was prepared for partitions held before may be another member's now.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.prepared.clear();
      this.windowStart.clear();
    });
    await consumer.connect();
    await consumer.subscribe({
      topic: this.options.topic,
      fromBeginning: m.startingPosition !== 'LATEST',
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Partitions are processed in parallel, each in order, as the mapping's pollers do.
      partitionsConsumedConcurrently: 16,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.state = 'running';
  }

  /** Leaves the consumer group; what was not committed is read again at the next start. */
  async stop(): Promise<void> {
    if (!this.consumer && !this.producer) return;
    this.state = 'stopping';
    await this.consumer?.disconnect();
    this.consumer = undefined;
    await this.producer?.disconnect();
    this.producer = undefined;
    this.state = 'stopped';
  }

  /** AT_TIMESTAMP for a group with no committed offsets: start each partition at the first record at or after it. */
  private async applyStartingPosition(): Promise<void> {
    const { topic } = this.options;
    const m = this.resolved;
    if (m.startingPosition !== 'AT_TIMESTAMP') return;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [committed] = await whileCoordinatorMoves(() =>
        admin.fetchOffsets({ groupId: m.consumerGroupId, topics: [topic] }),
      );
      if (committed?.partitions.some((p) => p.offset !== '-1')) return;
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, m.startingTimestampMs);
      await whileCoordinatorMoves(() =>
        admin.setOffsets({
          groupId: m.consumerGroupId,
          topic,
          partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset })),
        }),
      );
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Runs the records of a fetched batch of one partition, in order, one invocation batch at a time.
   * Records are prepared (schema-registry step, filters, payload cap) as each invocation batch is
   * gathered, not all at once: only the records of the batch being gathered or invoked are held in
   * the MSK event shape, whatever the fetch returned (up to MAX_PAYLOAD_BYTES per partition).
   */
  private async onBatch({
    batch,
    heartbeat,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload): Promise<void> {
    const { partition, topic } = batch;
    let prepared = this.prepared.get(partition);
    if (!prepared) {
      prepared = new Map();
      this.prepared.set(partition, prepared);
    }
    const known = prepared;
    const messages = batch.messages;
    const commit = async (message: KafkaMessage) => {
      const next = (BigInt(message.offset) + 1n).toString();
      resolveOffset(message.offset);
      await this.consumer?.commitOffsets([{ topic, partition, offset: next }]);
      // Offsets were added in order: forget those now committed.
      const committed = BigInt(message.offset);
      for (const offset of known.keys()) {
        if (BigInt(offset) > committed) break;
        known.delete(offset);
      }
      this.options.observer?.committed?.(this.name, partition, next);
    };
    const limit = this.resolved.batchSize;
    const windowMs = this.resolved.batchingWindowMs;

    let next = 0; // first message not committed
    while (next < messages.length) {
      // Nothing changes isRunning or isStale within synchronous code: they are checked after each wait.
      if (!isRunning() || isStale()) return;
      // Gather the next invocation batch from `next` on: at most BatchSize records and 6 MB of event
      // payload (estimated), each record prepared once (skipped: filtered or dead-lettered already).
      const chunk: Pending[] = [];
      /** Where each record of the chunk is among the messages. */
      const at: number[] = [];
      let bytes = EVENT_OVERHEAD_BYTES;
      let end = next; // messages before `end` are in the chunk or skipped
      let full = false;
      while (end < messages.length) {
        if (chunk.length >= limit) {
          full = true;
          break;
        }
        const message = messages[end] as KafkaMessage;
        let result = known.get(message.offset);
        if (result === undefined) {
          const step = this.prepare(topic, partition, message);
          if (step instanceof Promise) {
            result = await step;
            known.set(message.offset, result);
            if (!isRunning() || isStale()) return;
          } else {
            result = step;
            known.set(message.offset, result);
          }
        }
        if (result === 'skip') {
          end++;
          continue;
        }
        if (bytes + result.size > MAX_PAYLOAD_BYTES) {
          full = true;
          break;
        }
        if (chunk.length === 0 && end > next) {
          // Skipped records before the batch's first one are committed before it is invoked.
          await commit(messages[end - 1] as KafkaMessage);
          next = end;
          if (!isRunning() || isStale()) return;
        }
        chunk.push({ delivered: result.delivered, size: result.size, message });
        at.push(end);
        bytes += result.size;
        end++;
      }
      if (chunk.length === 0) {
        // Only skipped records left: commit them.
        if (end > next) await commit(messages[end - 1] as KafkaMessage);
        return;
      }
      if (!full && chunk.length < limit && windowMs > 0) {
        const started = this.windowStart.get(partition) ?? Date.now();
        this.windowStart.set(partition, started);
        const left = started + windowMs - Date.now();
        if (left > 0) {
          // Not full and the window is open: read the partition again shortly (what is left
          // unresolved is fetched again, with whatever arrived since; what was prepared is kept).
          await sleep(Math.min(left, WINDOW_POLL_MS));
          return;
        }
      }
      this.windowStart.delete(partition);
      const done = await this.runChunk(chunk, heartbeat, isRunning);
      if (done === 0) return;
      // A whole batch also commits the skipped records gathered after its last one.
      const last = done < chunk.length || full ? (at[done - 1] as number) : end - 1;
      await commit(messages[last] as KafkaMessage);
      next = last + 1;
      if (done < chunk.length) return;
    }
  }

  /**
   * The schema-registry step, the filters and the payload cap: what to deliver, or 'skip' (filtered,
   * or sent to the on-failure destination). Synchronous unless a schema version must be looked up or
   * a dead letter written, so a record costs no promise on the common path.
   */
  private prepare(
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): Prepared | 'skip' | Promise<Prepared | 'skip'> {
    const registry = this.resolved.schemaRegistry;
    if (!registry) return this.admit(topic, partition, message, undefined);
    const result = this.deserialize(message.value, registry.validateValue);
    return result instanceof Promise
      ? result.then((r) => this.admit(topic, partition, message, r))
      : this.admit(topic, partition, message, result);
  }

  /** The rest of `prepare` once the schema-registry step (when configured) has given `result`. */
  private admit(
    topic: string,
    partition: number,
    message: KafkaMessage,
    result: Deserialized | undefined,
  ): Prepared | 'skip' | Promise<'skip'> {
    const m = this.resolved;
    if (result instanceof PoisonRecord)
      return this.deadLetter([toMskRecord(topic, partition, message)], result, {
        invokeCount: 0,
        responseContext: null,
      }).then(() => 'skip' as const);
    let delivered: MskRecord;
    if (!result) delivered = toMskRecord(topic, partition, message);
    else if (m.schemaRegistry?.format === 'JSON') {
      // The JSON text as the producer wrote it (parsing and serializing it again would give the
      // same value, at a cost per record).
      delivered = toMskRecord(topic, partition, message, false, {
        value: result.payload,
        valueSchemaMetadata: { dataFormat: 'JSON', schemaId: result.schemaVersionId },
      });
    } else {
      // SOURCE: "Lambda removes all schema metadata, such as the schema ID, before sending the
      // record to your function" (API_KafkaSchemaRegistryConfig, EventRecordFormat): the payload
      // without its Glue header, no valueSchemaMetadata.
      delivered = toMskRecord(topic, partition, message, false, { value: result.payload });
    }
    // Filters run after the schema-registry step (services-consume-kafka-events.html, "How Lambda
    // performs schema validation"): records that match no pattern are committed without invoking.
    // They see the deserialized JSON with the schema registry, otherwise the value's bytes as JSON or text.
    if (m.filters.length > 0) {
      const subject: FilterSubject = !result
        ? kafkaValue(message.value)
        : m.schemaRegistry?.format === 'JSON'
          ? { json: result.json }
          : kafkaValue(result.payload);
      if (!passesFilters(m.filters, subject)) {
        this.options.observer?.filtered?.(this.name, 1);
        return 'skip';
      }
    }
    const size = recordSize(delivered);
    if (EVENT_OVERHEAD_BYTES + size > MAX_PAYLOAD_BYTES) {
      // https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html: a record too large for an
      // invocation is sent to the destination with condition MaximumPayloadSizeExceeded; the function
      // never ran, so there is no response context.
      return this.deadLetter(
        [toMskRecord(topic, partition, message)],
        new PoisonRecord(
          'MaximumPayloadSizeExceeded',
          `the record takes about ${size} bytes of an invocation payload, more than the ${MAX_PAYLOAD_BYTES} Lambda accepts`,
          'MaximumPayloadSizeExceeded',
        ),
        { invokeCount: 0, responseContext: null },
      ).then(() => 'skip' as const);
    }
    return { delivered, size };
  }

  /**
   * Glue deserialization of a value, and its validation when `validate` is on: core/classify.ts's
   * steps, with AWS's conditions (`SCHEMA_NOT_FOUND`, otherwise `DESERIALIZATION_ERROR`). Synchronous
   * when the schema version was found before.
   */
  private deserialize(value: Buffer | null, validate: boolean): Deserialized | Promise<Deserialized> {
    const empty = emptyValue(value);
    if (empty) return asMappingFailure(empty);
    const unframed = unframe(value as Buffer, 'required');
    if (unframed instanceof PoisonRecord) return asMappingFailure(unframed);
    const schemaVersionId = unframed.schemaVersionId as string;
    const known = this.schemaVersions.get(schemaVersionId);
    if (known) return checked(known, schemaVersionId, unframed.payload, validate);
    return Promise.resolve(this.options.schemaRegistry?.lookup(schemaVersionId)).then((schema) => {
      if (!schema) return asMappingFailure(schemaNotFound(schemaVersionId));
      this.schemaVersions.set(schemaVersionId, schema);
      return checked(schema, schemaVersionId, unframed.payload, validate);
    });
  }

  /**
   * Runs one batch to completion: success, retries, bisection, dead letters. Returns how many records
   * from its start are done (and may be committed); less than the batch only when stopping.
   */
  private async runChunk(
    chunk: Pending[],
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
  ): Promise<number> {
    const m = this.resolved;
    const history: History = { invokeCount: 0 };
    let remaining = chunk;
    let attempt = 0;
    /** Records of `chunk` before `p` are done: processed or sent to the destination. */
    const doneBefore = (p: Pending | undefined) => (p ? chunk.indexOf(p) : chunk.length);
    while (remaining.length > 0) {
      if (!isRunning()) return doneBefore(remaining[0]);
      // Records past the maximum age are not invoked again, wherever they are in the batch: CreateTime
      // timestamps are the producers' and need not follow offsets.
      if (this.maxRecordAgeSeconds !== -1) {
        const oldest = Date.now() - this.maxRecordAgeSeconds * 1000;
        const expired = new Set(remaining.filter((p) => Number(p.message.timestamp) < oldest));
        if (expired.size > 0) {
          await this.deadLetter(
            [...expired].map(asRead),
            new PoisonRecord(
              'RecordAgeExceeded',
              `older than MaximumRecordAgeInSeconds (${this.maxRecordAgeSeconds} s)`,
              'RecordAgeExceeded',
            ),
            history,
          );
          remaining = remaining.filter((p) => !expired.has(p));
          continue;
        }
      }
      const event = toMskEvent(
        remaining.map((p) => p.delivered),
        this.eventSourceArn,
        this.bootstrapServers,
      );
      // Heartbeat while the function runs, so an invocation longer than the session timeout does not
      // get the poller evicted (a rebalance, and the batch delivered twice).
      const beat = setInterval(() => heartbeat().catch(() => {}), 1000);
      const result = await invoke(this.fn, this.options.handler, event).finally(() => clearInterval(beat));
      history.invokeCount++;
      this.options.observer?.invoked?.(this.name, remaining.length, result.durationMs, result.ok);
      await heartbeat();

      if (result.ok) {
        const failures = m.reportBatchItemFailures
          ? itemFailures(result.value as KafkaBatchResponse | undefined, remaining)
          : { lowest: -1 };
        if ('lowest' in failures && failures.lowest === -1) {
          this.options.observer?.processed?.(this.name, remaining.length);
          return chunk.length;
        }
        if ('invalid' in failures) {
          // Lambda fails the whole batch when it cannot read the response
          // (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html).
          history.lastError = `the partial batch response was not understood, so the whole batch is retried: ${failures.invalid}`;
          this.lastError = history.lastError;
          this.options.log?.('warn', `${this.name}: ${history.lastError}`, { records: remaining.length });
        } else {
          this.options.observer?.processed?.(this.name, failures.lowest);
          remaining = remaining.slice(failures.lowest);
          history.lastError = `the handler reported offset ${remaining[0]?.message.offset} as failed`;
        }
        history.responseContext = { statusCode: 200, executedVersion: '$LATEST' };
      } else {
        history.lastError = result.error?.message ?? 'the function failed';
        history.responseContext = { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
        this.lastError = history.lastError;
        this.options.log?.('warn', `${this.name}: invocation failed`, {
          error: history.lastError,
          records: remaining.length,
        });
      }
      history.firstFailureAt ??= new Date();
      attempt++;

      if (!result.ok && m.bisectBatchOnFunctionError && remaining.length > 1) {
        // Split in two and run each half as its own batch; splitting does not use up a retry.
        const half = Math.ceil(remaining.length / 2);
        const first = remaining.slice(0, half);
        const second = remaining.slice(half);
        const firstDone = await this.runChunk(first, heartbeat, isRunning);
        if (firstDone < first.length) return doneBefore(first[firstDone]);
        const secondDone = await this.runChunk(second, heartbeat, isRunning);
        return doneBefore(second[secondDone]);
      }
      if (this.maxRetries !== -1 && attempt > this.maxRetries) {
        if (m.onFailureTopic) {
          await this.deadLetter(
            remaining.map(asRead),
            new PoisonRecord(
              'RetriesExhausted',
              history.lastError ?? 'retries exhausted',
              'RetriesExhausted',
            ),
            history,
          );
        } else {
          this.options.log?.(
            'warn',
            `${this.name}: retries exhausted, ${remaining.length} record(s) dropped`,
            {
              reason: history.lastError,
            },
          );
        }
        return chunk.length;
      }
      await sleep(Math.min(2000, (this.options.retryBackoffMs ?? 100) * 2 ** (attempt - 1)));
    }
    return chunk.length;
  }

  /** Sends records to the on-failure destination, one dead letter each, in Lambda's layout. */
  private async deadLetter(
    records: readonly MskRecord[],
    failure: PoisonRecord,
    history: History,
  ): Promise<void> {
    const destination = this.resolved.onFailureTopic;
    if (!destination) {
      // Without a destination Lambda drops what it gives up on
      // (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html).
      this.options.log?.(
        'warn',
        `${this.name}: ${records.length} record(s) dropped (no on-failure destination)`,
        {
          condition: failure.condition,
          reason: failure.message,
        },
      );
      return;
    }
    const event = {
      eventSourceArn: this.eventSourceArn,
      bootstrapServers: this.bootstrapServers,
    };
    const invocation = {
      awsRequestId: crypto.randomUUID(),
      invokedFunctionArn: localFunctionArn(this.name),
      functionName: this.name,
    };
    const decoded: DecodedRecord[] = decodeMskEvent(
      toMskEvent(records, event.eventSourceArn, event.bootstrapServers),
    );
    const messages = decoded.map((record) =>
      deadLetterMessage(
        record,
        deadLetterFor(record, event, failure, invocation, new Date(), {
          approximateInvokeCount: history.invokeCount,
          responseContext: history.responseContext ?? null,
          firstFailureAt: history.firstFailureAt,
        }),
      ),
    );
    await this.writer.send([{ topic: destination, messages }]);
    this.options.observer?.deadLettered?.(this.name, failure.condition, records.length);
    this.options.log?.('warn', `${this.name}: ${records.length} record(s) sent to ${destination}`, {
      condition: failure.condition,
      reason: failure.message,
    });
  }
}

/** A Glue payload parsed and, when `validate` is on, validated against its schema version. */
function checked(
  schema: SchemaVersion,
  schemaVersionId: string,
  payload: Buffer,
  validate: boolean,
): Deserialized {
  const parsed = parsePayload(payload);
  if (parsed instanceof PoisonRecord) return asMappingFailure(parsed);
  const issues = validate ? schema.validate(parsed.json) : [];
  if (issues.length > 0)
    return asMappingFailure(
      new PoisonRecord(
        'ValidationError',
        `does not match schema ${schema.name ?? 'version'} (${schemaVersionId})`,
        'RecordRejected',
        issues,
      ),
    );
  return { json: parsed.json, payload, schemaVersionId };
}

/**
 * Reads a partial batch response as Lambda does: each failure must be
 * `{ itemIdentifier: { partition: "<topic>-<partition>", offset: <number> } }` naming a record of the
 * batch (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html, current
 * revision; an earlier one spelled the key `topic-partition`, which Lambda does not read). An absent
 * or empty list is success; anything else Lambda cannot read fails the whole batch.
 */
export function itemFailures(
  response: KafkaBatchResponse | undefined,
  batch: readonly { readonly delivered: MskRecord }[],
): ItemFailures {
  if (response === undefined || response === null) return { lowest: -1 };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { lowest: -1 };
  if (!Array.isArray(failures)) return { invalid: '"batchItemFailures" is not a list' };
  let lowest = Number.POSITIVE_INFINITY;
  for (const [i, failure] of failures.entries()) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier as
      | Record<string, unknown>
      | null
      | undefined;
    const where = `batchItemFailures[${i}]`;
    if (!id || typeof id !== 'object') return { invalid: `${where} has no itemIdentifier object` };
    if (!('partition' in id) && 'topic-partition' in id)
      return {
        invalid: `${where}.itemIdentifier names the partition as "topic-partition", an earlier revision's spelling; Lambda reads "partition"`,
      };
    if (typeof id.partition !== 'string' || id.partition === '')
      return { invalid: `${where}.itemIdentifier.partition must be the string "<topic>-<partition>"` };
    if (typeof id.offset !== 'number' || !Number.isInteger(id.offset))
      return { invalid: `${where}.itemIdentifier.offset must be an integer` };
    const index = batch.findIndex(
      (p) =>
        `${p.delivered.topic}-${p.delivered.partition}` === id.partition && p.delivered.offset === id.offset,
    );
    if (index === -1)
      return { invalid: `${where} names ${id.partition} offset ${id.offset}, which is not in the batch` };
    lowest = Math.min(lowest, index);
  }
  return { lowest: failures.length === 0 ? -1 : lowest };
}

/** A record as read from Kafka (for its dead letter), from the message kafkajs read. */
const asRead = (p: Pending): MskRecord => toMskRecord(p.delivered.topic, p.delivered.partition, p.message);

/** About what a record takes of the invocation event's JSON, without serializing it. */
function recordSize(record: MskRecord): number {
  return 256 + (record.key?.length ?? 0) + (record.value?.length ?? 0) + headersSize(record.headers);
}

/**
 * About what MSK-style `headers` take as JSON, without serializing them: each value is an array of
 * byte numbers, up to five characters a byte with its comma and sign, under its quoted name.
 */
function headersSize(headers: readonly Readonly<Record<string, readonly number[]>>[] | undefined): number {
  let size = 2;
  for (const header of headers ?? [])
    for (const name in header) size += name.length + 8 + 5 * (header[name]?.length ?? 0);
  return size;
}

/**
 * Kafka's retriable group-coordinator errors: a new cluster elects the coordinator of a group when the
 * group is first used (and creates __consumer_offsets), and kafkajs' admin does not retry them.
 */
const COORDINATOR_MOVING =
  /NOT_COORDINATOR|COORDINATOR_NOT_AVAILABLE|COORDINATOR_LOAD_IN_PROGRESS|not the correct coordinator|coordinator is (not available|loading)/i;

/** Runs `call`, again while the group's coordinator is being elected or loaded (at most `timeoutMs`). */
async function whileCoordinatorMoves<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(2000, delay * 2)) {
    try {
      return await call();
    } catch (error) {
      const e = error as Error & { type?: string };
      if (!COORDINATOR_MOVING.test(`${e.type ?? ''} ${e.message}`) || Date.now() > deadline) throw error;
      await sleep(delay);
    }
  }
}
