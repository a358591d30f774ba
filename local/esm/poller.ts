/**
 * A local Lambda event-source mapping for one consumer: reads its topic as its consumer group and
 * invokes its handler the way the MSK event-source mapping does, from the settings lib/topology.ts
 * gives the CDK stack. docs/local-vs-aws.md lists each setting, the AWS page it follows, and what
 * differs.
 *
 * Per partition, in offset order:
 * 1. Schema registry (Glue, EventRecordFormat JSON/SOURCE, validate VALUE): a value that is not a
 *    valid Glue-framed record is sent to the on-failure destination as DESERIALIZATION_ERROR, one
 *    whose schema version is unknown as SCHEMA_NOT_FOUND; one that fails validation as
 *    DESERIALIZATION_ERROR. Valid values are delivered as JSON (or as is, for SOURCE).
 * 2. Filters on `value`: records matching no pattern are skipped and committed.
 * 3. Records older than MaximumRecordAgeInSeconds go to the on-failure destination.
 * 4. Batches of at most BatchSize records and 6 MB of payload are invoked; the broker holds each fetch
 *    up to MaximumBatchingWindowInSeconds for records to accumulate.
 * 5. Success commits the batch's offsets (at least once: nothing is committed before success). A
 *    partial batch response commits up to the lowest failed offset and retries from there. A function
 *    error or timeout retries the batch, split in two first when BisectBatchOnFunctionError is on,
 *    until MaximumRetryAttempts (10 when infinite with an on-failure destination); then each record
 *    goes to the destination, in the layout Lambda writes (schemas/dead-letter.ts), and is committed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { deadLetterFor, deadLetterMessage, PoisonRecord } from '../../lambdas/shared/dead-letter';
import { decode, GlueWireFormatError } from '../../lambdas/shared/glue-wire-format';
import type { KafkaWriter } from '../../lambdas/shared/kafka';
import type { DecodedRecord, KafkaBatchResponse, MskEvent, MskRecord } from '../../lambdas/shared/msk-event';
import { decodeMskEvent } from '../../lambdas/shared/msk-event';
import type { ConsumerSpec } from '../../lib/topology';
import type { ContractName, DeadLetter } from '../../schemas/index';
import { checkContract } from '../../schemas/validator';
import { type AsyncHandler, invoke, localFunctionArn } from '../lambda';
import { checkFilters, kafkaValue, passesFilters } from './filters';
import { toMskEvent, toMskRecord } from './msk-records';

/** Lambda's synchronous invocation payload limit (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** With infinite retries and an on-failure destination, Lambda caps retries at 10
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html). */
export const RETRIES_WITH_DESTINATION = 10;

/** One strict UTF-8 decoder for every record (it holds no state between decode calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type MappingState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** What a mapping reports to the runtime's metrics and live view. */
export interface MappingObserver {
  invoked?(mapping: string, records: number, durationMs: number, ok: boolean): void;
  deadLettered?(mapping: string, condition: string, records: number): void;
  filtered?(mapping: string, records: number): void;
  committed?(mapping: string, partition: number, offset: string): void;
}

export interface PollerOptions {
  readonly spec: ConsumerSpec;
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
  readonly log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    details?: Record<string, unknown>,
  ) => void;
}

interface Pending {
  readonly message: KafkaMessage;
  /** The record as delivered to the function (after the schema-registry step). */
  readonly delivered: MskRecord;
  /** The record as read from Kafka, for dead letters. */
  readonly original: MskRecord;
}

interface History {
  invokeCount: number;
  firstFailureAt?: Date;
  lastError?: string;
  responseContext?: DeadLetter['responseContext'];
}

export class LocalEventSourceMapping {
  state: MappingState = 'stopped';
  lastError: string | undefined;
  private consumer: Consumer | undefined;
  private readonly maxRetries: number;

  constructor(private readonly options: PollerOptions) {
    const m = options.spec.mapping;
    checkFilters(m.filters);
    this.maxRetries =
      m.maximumRetryAttempts === -1 && m.onFailureTopic ? RETRIES_WITH_DESTINATION : m.maximumRetryAttempts;
  }

  get name(): string {
    return this.options.spec.name;
  }

  /** Joins the consumer group at the configured starting position and starts polling. */
  async start(): Promise<void> {
    const { spec, kafka } = this.options;
    const m = spec.mapping;
    this.state = 'starting';
    await this.applyStartingPosition();
    const windowMs = m.maximumBatchingWindowSeconds * 1000;
    const consumer = kafka.consumer({
      groupId: m.consumerGroupId,
      // The broker answers a fetch when 1 MiB is ready or the batching window has passed.
      maxWaitTimeInMs: Math.max(10, windowMs),
      minBytes: windowMs > 0 ? 1024 * 1024 : 1,
      maxBytesPerPartition: MAX_PAYLOAD_BYTES,
      allowAutoTopicCreation: false,
      // A poller that died without leaving (SIGKILL) is evicted after 10 s rather than kafkajs' 30 s,
      // so a restarted runtime gets its partitions back quickly.
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      this.lastError = String(e.payload.error?.message ?? e.payload.error);
      if (!e.payload.restart) this.state = 'failed';
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
    const position = spec.mapping.startingPosition;
    if (position.type !== 'AT_TIMESTAMP') return;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({
        groupId: spec.mapping.consumerGroupId,
        topics: [spec.sourceTopic],
      });
      if (committed?.partitions.some((p) => p.offset !== '-1')) return;
      const offsets = await admin.fetchTopicOffsetsByTimestamp(
        spec.sourceTopic,
        Date.parse(position.timestamp),
      );
      await admin.setOffsets({
        groupId: spec.mapping.consumerGroupId,
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
    const commit = async (message: KafkaMessage) => {
      const next = (BigInt(message.offset) + 1n).toString();
      resolveOffset(message.offset);
      await this.consumer?.commitOffsets([{ topic, partition, offset: next }]);
      this.options.observer?.committed?.(this.name, partition, next);
    };

    let pending: Pending[] = [];
    const flush = async () => {
      while (pending.length > 0 && isRunning() && !isStale()) {
        const chunk = this.takeChunk(pending);
        const done = await this.runChunk(chunk, heartbeat, isRunning);
        if (done === 0) return;
        await commit((chunk[done - 1] as Pending).message);
        pending = pending.slice(done);
      }
    };

    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      const original = toMskRecord(topic, partition, message);
      const prepared = await this.prepare(original, message);
      if (prepared === 'skip') {
        // Filtered or dead-lettered: nothing to invoke. Commit once what is before it is done.
        await flush();
        if (pending.length > 0) return;
        await commit(message);
        continue;
      }
      pending.push({ message, delivered: prepared, original });
    }
    await flush();
  }

  /** The schema-registry step and the filters. Returns what to deliver, or 'skip'. */
  private async prepare(original: MskRecord, message: KafkaMessage): Promise<MskRecord | 'skip'> {
    const { spec } = this.options;
    const registry = spec.mapping.schemaRegistry;
    let delivered = original;
    let json: unknown;
    if (registry) {
      const failure = await this.deserialize(message.value);
      if (failure instanceof PoisonRecord) {
        await this.deadLetter([original], failure, { invokeCount: 0 });
        return 'skip';
      }
      json = failure.json;
      if (registry.eventRecordFormat === 'JSON') {
        delivered = {
          ...original,
          // The validated JSON text as the producer wrote it (parsing and serializing it again would
          // give the same value, at a cost per record).
          value: failure.payload.toString('base64'),
          valueSchemaMetadata: { dataFormat: 'JSON', schemaId: failure.schemaVersionId },
        };
      }
    } else {
      try {
        json = message.value ? JSON.parse(message.value.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
    }
    if (!passesFilters(spec.mapping.filters, registry ? { json } : kafkaValue(message.value))) {
      this.options.observer?.filtered?.(this.name, 1);
      return 'skip';
    }
    return delivered;
  }

  /** Glue deserialization and validation of a value. */
  private async deserialize(
    value: Buffer | null,
  ): Promise<PoisonRecord | { json: unknown; payload: Buffer; schemaVersionId: string }> {
    if (!value || value.byteLength === 0) {
      return new PoisonRecord(
        'DeserializationError',
        'the record has no value to deserialize',
        'DESERIALIZATION_ERROR',
      );
    }
    let decoded: ReturnType<typeof decode>;
    try {
      decoded = decode(value);
    } catch (error) {
      const message = error instanceof GlueWireFormatError ? error.message : String(error);
      return new PoisonRecord(
        'DeserializationError',
        `not a Glue Schema Registry record: ${message}`,
        'DESERIALIZATION_ERROR',
      );
    }
    const contract = await this.options.schemaOf(decoded.schemaVersionId);
    if (!contract) {
      return new PoisonRecord(
        'SchemaNotFound',
        `schema version ${decoded.schemaVersionId} is not in the registry`,
        'SCHEMA_NOT_FOUND',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(UTF8.decode(decoded.payload));
    } catch (error) {
      return new PoisonRecord(
        'DeserializationError',
        `payload is not UTF-8 JSON: ${(error as Error).message}`,
        'DESERIALIZATION_ERROR',
      );
    }
    const issues = checkContract(contract, json);
    if (issues.length > 0) {
      return new PoisonRecord(
        'ValidationError',
        `does not match schema ${contract} (${decoded.schemaVersionId})`,
        'DESERIALIZATION_ERROR',
        issues,
      );
    }
    return { json, payload: decoded.payload, schemaVersionId: decoded.schemaVersionId };
  }

  /** The next batch: at most BatchSize records and 6 MB of event payload (estimated). */
  private takeChunk(pending: readonly Pending[]): Pending[] {
    const limit = this.options.spec.mapping.batchSize;
    const chunk: Pending[] = [];
    let bytes = 512;
    for (const p of pending) {
      const size =
        256 +
        (p.delivered.key?.length ?? 0) +
        (p.delivered.value?.length ?? 0) +
        headersSize(p.delivered.headers);
      if (chunk.length > 0 && (chunk.length >= limit || bytes + size > MAX_PAYLOAD_BYTES)) break;
      chunk.push(p);
      bytes += size;
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
    const m = this.options.spec.mapping;
    const history: History = { invokeCount: 0 };
    let remaining = chunk;
    let done = 0;
    let attempt = 0;
    while (remaining.length > 0) {
      if (!isRunning()) return done;
      // Records past the maximum age are not invoked again.
      if (m.maximumRecordAgeSeconds !== -1) {
        const oldest = Date.now() - m.maximumRecordAgeSeconds * 1000;
        const expired = remaining.filter((p) => Number(p.message.timestamp) < oldest);
        if (expired.length > 0) {
          await this.deadLetter(
            expired.map((p) => p.original),
            new PoisonRecord(
              'RecordAgeExceeded',
              `older than ${m.maximumRecordAgeSeconds} s`,
              'RecordAgeExceeded',
            ),
            history,
          );
          // Expired records are the oldest, at the start of the partition's batch.
          done += expired.length;
          remaining = remaining.slice(expired.length);
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
      const result = await invoke(fn, this.options.handler, event);
      history.invokeCount++;
      this.options.observer?.invoked?.(this.name, remaining.length, result.durationMs, result.ok);
      await heartbeat();

      if (result.ok) {
        const failed = m.reportBatchItemFailures ? this.lowestFailure(result.value, remaining) : -1;
        if (failed === -1) return done + remaining.length;
        if (failed === -2) {
          // An identifier that was not in the batch: the whole batch is treated as failed.
          history.lastError = 'the partial batch response named a record that was not in the batch';
        } else {
          done += failed;
          remaining = remaining.slice(failed);
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
        const first = await this.runChunk(remaining.slice(0, half), heartbeat, isRunning);
        if (first < half) return done + first;
        const second = await this.runChunk(remaining.slice(half), heartbeat, isRunning);
        return done + half + second;
      }
      if (this.maxRetries !== -1 && attempt > this.maxRetries) {
        await this.deadLetter(
          remaining.map((p) => p.original),
          new PoisonRecord('RetriesExhausted', history.lastError ?? 'retries exhausted', 'RetriesExhausted'),
          history,
        );
        return done + remaining.length;
      }
      await sleep(Math.min(2000, (this.options.retryBackoffMs ?? 100) * 2 ** (attempt - 1)));
    }
    return done;
  }

  /**
   * Index in `batch` of the lowest failed record of a partial batch response; -1 when none failed,
   * -2 when the response names a record that is not in the batch (Lambda then fails the whole batch:
   * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html).
   */
  private lowestFailure(response: KafkaBatchResponse | undefined, batch: readonly Pending[]): number {
    const failures = response?.batchItemFailures ?? [];
    if (failures.length === 0) return -1;
    let lowest = Number.POSITIVE_INFINITY;
    for (const f of failures) {
      const id = f.itemIdentifier;
      const index = batch.findIndex(
        (p) =>
          `${p.delivered.topic}-${p.delivered.partition}` === id?.['topic-partition'] &&
          p.delivered.offset === Number(id?.offset),
      );
      if (index === -1) return -2;
      lowest = Math.min(lowest, index);
    }
    return lowest;
  }

  /** Sends records to the on-failure destination, one dead letter each, in Lambda's layout. */
  private async deadLetter(
    records: readonly MskRecord[],
    failure: PoisonRecord,
    history: History,
  ): Promise<void> {
    const { spec, writer } = this.options;
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
    await writer.send([{ topic: spec.mapping.onFailureTopic, messages }]);
    this.options.observer?.deadLettered?.(this.name, failure.condition, records.length);
    this.options.log?.(
      'warn',
      `${this.name}: ${records.length} record(s) sent to ${spec.mapping.onFailureTopic}`,
      {
        condition: failure.condition,
        reason: failure.message,
      },
    );
  }
}

/**
 * About what MSK-style `headers` take as JSON, without serializing them: each value is an array of
 * byte numbers, up to four characters a byte with its comma, under its quoted name.
 */
function headersSize(headers: readonly Readonly<Record<string, readonly number[]>>[] | undefined): number {
  let size = 2;
  for (const header of headers ?? [])
    for (const name in header) size += name.length + 8 + 4 * (header[name]?.length ?? 0);
  return size;
}
