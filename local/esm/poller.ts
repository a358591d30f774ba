/**
 * A local Lambda event-source mapping for one consumer: reads its topic as its consumer group and
 * invokes its handler the way the MSK event-source mapping does, with the settings the CDK stack
 * deploys (lib/target.ts `mappingAsDeployed`: the same function builds both). docs/local-vs-aws.md
 * lists each setting, the AWS page it follows, and what differs.
 *
 * Per partition, in offset order:
 * 1. Schema registry (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html):
 *    a value that is not a valid Glue-framed record is sent to the on-failure destination as
 *    DESERIALIZATION_ERROR, one whose schema version is unknown as SCHEMA_NOT_FOUND, one that fails
 *    validation (when `validateValue` asks for it) as DESERIALIZATION_ERROR. EventRecordFormat JSON
 *    delivers the JSON with `valueSchemaMetadata`; SOURCE delivers the payload in its source format
 *    with the schema metadata (the Glue header) removed.
 * 2. Filters on `value`, only where the value is delivered as JSON (as the stack deploys them):
 *    records matching no pattern are skipped and committed.
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
 *    layout Lambda writes (schemas/dead-letter.ts), and is committed.
 *
 * The consumer heartbeats while the function runs, and its rebalance timeout covers the function
 * timeout, so a long invocation does not get the mapping evicted from its group.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import {
  asMappingFailure,
  emptyValue,
  parsePayload,
  schemaNotFound,
  unframe,
  validateAgainst,
} from '../../core/classify';
import { deadLetterFor, deadLetterMessage, PoisonRecord } from '../../core/dead-letter';
import { type DeployedMapping, mappingAsDeployed } from '../../core/mapping';
import type { DecodedRecord, KafkaBatchResponse, MskEvent, MskRecord } from '../../core/msk-event';
import { decodeMskEvent } from '../../core/msk-event';
import type { ConsumerSpec } from '../../core/topology';
import type { KafkaWriter } from '../../lambdas/shared/kafka';
import type { ContractName, DeadLetter } from '../../schemas/index';
import { type AsyncHandler, invoke, localFunctionArn } from '../lambda';
import { checkFilters, type FilterSubject, kafkaValue, passesFilters } from './filters';
import { toMskEvent, toMskRecord } from './msk-records';

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
  deadLettered?(mapping: string, condition: string, records: number): void;
  filtered?(mapping: string, records: number): void;
  committed?(mapping: string, partition: number, offset: string): void;
}

export interface PollerOptions {
  /** The consumer: its name, source topic, function timeout and memory. */
  readonly spec: ConsumerSpec;
  /** The mapping's settings. @default the spec's, as the stack deploys them to AWS (`mappingAsDeployed`) */
  readonly mapping?: DeployedMapping;
  readonly kafka: Kafka;
  readonly handler: AsyncHandler<MskEvent, KafkaBatchResponse | undefined>;
  /** Writes dead letters to the on-failure destination. */
  readonly writer: KafkaWriter;
  /** Contract of a schema version id, as the registry knows it. */
  readonly schemaOf: (schemaVersionId: string) => Promise<ContractName | undefined>;
  readonly bootstrapServers: string;
  readonly eventSourceArn: string;
  readonly observer?: MappingObserver;
  /** Delay before the first retry of a failed batch, doubled each time up to 2 s. @default 100 */
  readonly retryBackoffMs?: number;
  /**
   * The consumer's session timeout. A poller that died without leaving (SIGKILL) is evicted after
   * it, so a restarted runtime gets its partitions back quickly; a live one heartbeats, also while
   * the function runs. @default 10000
   */
  readonly sessionTimeoutMs?: number;
  readonly log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    details?: Record<string, unknown>,
  ) => void;
}

/** A record read from the partition and what the mapping made of it. */
interface Prepared {
  /** The record as delivered to the function (after the schema-registry step). */
  readonly delivered: MskRecord;
  /** The record as read from Kafka, for dead letters. */
  readonly original: MskRecord;
  /** Its share of an invocation payload, estimated. */
  readonly size: number;
}

interface Pending extends Prepared {
  readonly message: KafkaMessage;
}

interface History {
  invokeCount: number;
  firstFailureAt?: Date;
  lastError?: string;
  responseContext?: DeadLetter['responseContext'];
}

/** Why a partial batch response cannot be read, or the index of its lowest failed record (-1: none). */
export type ItemFailures = { readonly lowest: number } | { readonly invalid: string };

export class LocalEventSourceMapping {
  state: MappingState = 'stopped';
  lastError: string | undefined;
  /** The settings this mapping runs with. */
  readonly settings: DeployedMapping;
  private consumer: Consumer | undefined;
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

  constructor(private readonly options: PollerOptions) {
    const m = options.mapping ?? mappingAsDeployed(options.spec.mapping);
    checkFilters(m.filters);
    this.settings = m;
    const retries = m.errorHandling?.maximumRetryAttempts ?? -1;
    this.maxRetries = retries === -1 && m.onFailureTopic ? RETRIES_WITH_DESTINATION : retries;
    this.maxRecordAgeSeconds = m.errorHandling?.maximumRecordAgeSeconds ?? -1;
  }

  get name(): string {
    return this.options.spec.name;
  }

  /** Joins the consumer group at the configured starting position and starts polling. */
  async start(): Promise<void> {
    const { spec, kafka } = this.options;
    const m = this.settings;
    this.state = 'starting';
    await this.applyStartingPosition();
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer = kafka.consumer({
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
      rebalanceTimeout: Math.max(60_000, spec.timeoutSeconds * 1000 + sessionTimeout),
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
      topic: spec.sourceTopic,
      fromBeginning: m.startingPosition.type !== 'LATEST',
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
    if (!this.consumer) return;
    this.state = 'stopping';
    await this.consumer.disconnect();
    this.consumer = undefined;
    this.state = 'stopped';
  }

  /** AT_TIMESTAMP for a group with no committed offsets: start each partition at the first record at or after it. */
  private async applyStartingPosition(): Promise<void> {
    const { spec, kafka } = this.options;
    const position = this.settings.startingPosition;
    if (position.type !== 'AT_TIMESTAMP') return;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({
        groupId: this.settings.consumerGroupId,
        topics: [spec.sourceTopic],
      });
      if (committed?.partitions.some((p) => p.offset !== '-1')) return;
      const offsets = await admin.fetchTopicOffsetsByTimestamp(
        spec.sourceTopic,
        Date.parse(position.timestamp),
      );
      await admin.setOffsets({
        groupId: this.settings.consumerGroupId,
        topic: spec.sourceTopic,
        partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset })),
      });
    } finally {
      await admin.disconnect();
    }
  }

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

    // What to do with each record read: skip (filtered or dead-lettered already) or invoke.
    const entries: { message: KafkaMessage; pending?: Pending }[] = [];
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      let result = known.get(message.offset);
      if (result === undefined) {
        result = await this.prepare(toMskRecord(topic, partition, message), message.value);
        known.set(message.offset, result);
      }
      entries.push({ message, pending: result === 'skip' ? undefined : { ...result, message } });
    }

    let next = 0; // first entry not committed
    /** Commits every entry before `end` (and before the next record to invoke). */
    const commitUpTo = async (end: number) => {
      let last = end - 1;
      while (last + 1 < entries.length && !entries[last + 1]?.pending) last++;
      if (last >= next) await commit((entries[last] as (typeof entries)[number]).message);
      next = last + 1;
    };
    await commitUpTo(next);
    const windowMs = this.settings.maximumBatchingWindowSeconds * 1000;
    // The records to invoke, in order, and where each is among the entries.
    const queue: Pending[] = [];
    const entryOf = new Map<Pending, number>();
    for (const [i, e] of entries.entries()) {
      if (!e.pending) continue;
      queue.push(e.pending);
      entryOf.set(e.pending, i);
    }
    let head = 0; // first record of the queue not done
    while (head < queue.length && isRunning() && !isStale()) {
      const chunk = this.takeChunk(queue, head);
      const full = head + chunk.length < queue.length || chunk.length >= this.settings.batchSize;
      if (!full && windowMs > 0) {
        const started = this.windowStart.get(partition) ?? Date.now();
        this.windowStart.set(partition, started);
        const left = started + windowMs - Date.now();
        if (left > 0) {
          // Not full and the window is open: read the partition again shortly (what is left
          // unresolved is fetched again, with whatever arrived since).
          await sleep(Math.min(left, WINDOW_POLL_MS));
          return;
        }
      }
      this.windowStart.delete(partition);
      const done = await this.runChunk(chunk, heartbeat, isRunning);
      if (done === 0) return;
      head += done;
      await commitUpTo((entryOf.get(chunk[done - 1] as Pending) as number) + 1);
      if (done < chunk.length) return;
    }
  }

  /** The schema-registry step, the payload cap and the filters. Returns what to deliver, or 'skip'. */
  private async prepare(original: MskRecord, value: Buffer | null): Promise<Prepared | 'skip'> {
    const m = this.settings;
    const registry = m.schemaRegistry;
    let delivered = original;
    /** What the filters look at: the deserialized JSON, or the value's bytes as text or JSON. */
    let subject: () => FilterSubject;
    if (registry) {
      const result = await this.deserialize(value, registry.validateValue);
      if (result instanceof PoisonRecord) {
        await this.deadLetter([original], result, { invokeCount: 0, responseContext: null });
        return 'skip';
      }
      if (registry.eventRecordFormat === 'JSON') {
        delivered = {
          ...original,
          // The JSON text as the producer wrote it (parsing and serializing it again would give the
          // same value, at a cost per record).
          value: result.payload.toString('base64'),
          valueSchemaMetadata: { dataFormat: 'JSON', schemaId: result.schemaVersionId },
        };
        subject = () => ({ json: result.json });
      } else {
        // SOURCE: "Lambda removes all schema metadata, such as the schema ID, before sending the
        // record to your function" (API_KafkaSchemaRegistryConfig, EventRecordFormat): the payload
        // without its Glue header, no valueSchemaMetadata.
        delivered = { ...original, value: result.payload.toString('base64') };
        subject = () => kafkaValue(result.payload);
      }
    } else {
      subject = () => kafkaValue(value);
    }
    // Filters run after the schema-registry step (services-consume-kafka-events.html, "How Lambda
    // performs schema validation"): records that match no pattern are committed without invoking.
    if (m.filters.length > 0 && !passesFilters(m.filters, subject())) {
      this.options.observer?.filtered?.(this.name, 1);
      return 'skip';
    }
    const size = recordSize(delivered);
    if (EVENT_OVERHEAD_BYTES + size > MAX_PAYLOAD_BYTES) {
      // https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html: a record too large for an
      // invocation is sent to the destination with condition MaximumPayloadSizeExceeded; the function
      // never ran, so there is no response context.
      await this.deadLetter(
        [original],
        new PoisonRecord(
          'MaximumPayloadSizeExceeded',
          `the record takes about ${size} bytes of an invocation payload, more than the ${MAX_PAYLOAD_BYTES} Lambda accepts`,
          'MaximumPayloadSizeExceeded',
        ),
        { invokeCount: 0, responseContext: null },
      );
      return 'skip';
    }
    return { delivered, original, size };
  }

  /**
   * Glue deserialization of a value, and its validation when `validate` is on: core/classify.ts's
   * steps, with AWS's conditions (`SCHEMA_NOT_FOUND`, otherwise `DESERIALIZATION_ERROR`).
   */
  private async deserialize(
    value: Buffer | null,
    validate: boolean,
  ): Promise<PoisonRecord | { json: unknown; payload: Buffer; schemaVersionId: string }> {
    const fail = (poison: PoisonRecord) => asMappingFailure(poison);
    const empty = emptyValue(value);
    if (empty) return fail(empty);
    const unframed = unframe(value as Buffer, 'required');
    if (unframed instanceof PoisonRecord) return fail(unframed);
    const schemaVersionId = unframed.schemaVersionId as string;
    const contract = await this.options.schemaOf(schemaVersionId);
    if (!contract) return fail(schemaNotFound(schemaVersionId));
    const parsed = parsePayload(unframed.payload);
    if (parsed instanceof PoisonRecord) return fail(parsed);
    const invalid = validate ? validateAgainst(contract, schemaVersionId, parsed.json) : undefined;
    if (invalid) return fail(invalid);
    return { json: parsed.json, payload: unframed.payload, schemaVersionId };
  }

  /** The next batch: at most BatchSize records and 6 MB of event payload (estimated). */
  private takeChunk(queue: readonly Pending[], from: number): Pending[] {
    const limit = this.settings.batchSize;
    const chunk: Pending[] = [];
    let bytes = EVENT_OVERHEAD_BYTES;
    for (let i = from; i < queue.length; i++) {
      const p = queue[i] as Pending;
      if (chunk.length >= limit || bytes + p.size > MAX_PAYLOAD_BYTES) break;
      chunk.push(p);
      bytes += p.size;
    }
    return chunk;
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
    const m = this.settings;
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
            [...expired].map((p) => p.original),
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
        this.options.eventSourceArn,
        this.options.bootstrapServers,
      );
      const fn = {
        name: this.name,
        timeoutSeconds: this.options.spec.timeoutSeconds,
        memoryMb: this.options.spec.memoryMb,
      };
      // Heartbeat while the function runs, so an invocation longer than the session timeout does not
      // get the poller evicted (a rebalance, and the batch delivered twice).
      const beat = setInterval(() => heartbeat().catch(() => {}), 1000);
      const result = await invoke(fn, this.options.handler, event).finally(() => clearInterval(beat));
      history.invokeCount++;
      this.options.observer?.invoked?.(this.name, remaining.length, result.durationMs, result.ok);
      await heartbeat();

      if (result.ok) {
        const failures = m.reportBatchItemFailures ? itemFailures(result.value, remaining) : { lowest: -1 };
        if ('lowest' in failures && failures.lowest === -1) return chunk.length;
        if ('invalid' in failures) {
          // Lambda fails the whole batch when it cannot read the response
          // (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html).
          history.lastError = `the partial batch response was not understood, so the whole batch is retried: ${failures.invalid}`;
          this.lastError = history.lastError;
          this.options.log?.('warn', `${this.name}: ${history.lastError}`, { records: remaining.length });
        } else {
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

      if (!result.ok && m.errorHandling?.bisectBatchOnFunctionError && remaining.length > 1) {
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
            remaining.map((p) => p.original),
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
    const { spec, writer } = this.options;
    const destination = this.settings.onFailureTopic;
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
      eventSourceArn: this.options.eventSourceArn,
      bootstrapServers: this.options.bootstrapServers,
    };
    const invocation = {
      awsRequestId: crypto.randomUUID(),
      invokedFunctionArn: localFunctionArn(spec.name),
      functionName: spec.name,
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
    await writer.send([{ topic: destination, messages }]);
    this.options.observer?.deadLettered?.(this.name, failure.condition, records.length);
    this.options.log?.('warn', `${this.name}: ${records.length} record(s) sent to ${destination}`, {
      condition: failure.condition,
      reason: failure.message,
    });
  }
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
