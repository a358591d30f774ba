/**
 * The local runtime's writer: a throughput aid for a process that serves many requests at once.
 *
 * On Lambda an execution environment serves one invocation at a time, and each invocation of the
 * functions makes one send, so the deployed functions write with a plain producer
 * (lambdas/shared/kafka.ts, `SharedProducer`: one produce request per send, one send at a time). The
 * local runtime serves every request and every mapping's batch in one process: with that producer,
 * concurrent callers would each wait their turn for a round trip. This writer wraps one and merges
 * the batches that arrive while a send is in flight into the next send ("coalescing"): N callers cost
 * one produce request instead of N. The local runtime hands it to the functions through their
 * `createHandler` (local/functions.ts).
 *
 * Batches are concatenated in the order `send` was called, so per-partition order is the callers'
 * order, and each caller still gets the metadata of its own records: Kafka writes a partition's
 * records of one request contiguously from the returned base offset, so a caller's base offset is
 * that plus the records that callers before it put on the partition. That needs every message to
 * name its partition; a batch with a message left to the partitioner is sent on its own. Merged sends
 * stay under {@link CoalescingOptions.maxMergedBytes} so that merging never makes a record batch the
 * broker would refuse when each caller's own would have been taken.
 */
import type { KafkaSettings } from '../core/env';
import type { KafkaWriter, OutgoingMessage, TopicMessages, WrittenRecords } from '../core/kafka-records';
import {
  createKafka,
  type KafkaLog,
  SharedProducer,
  type SharedProducerOptions,
  unacknowledged,
  type WriterFactory,
} from '../lambdas/shared/kafka';

export interface CoalescingOptions {
  /**
   * Batches from concurrent callers are merged into one send up to about this many bytes of keys,
   * values and headers. Kafka's default `max.message.bytes` is 1,048,588 and applies to a whole
   * record batch (https://kafka.apache.org/documentation/#topicconfigs_max.message.bytes), so the
   * default keeps a merged partition batch within what the broker takes. A single caller's batch is
   * never split. @default 1000000
   */
  readonly maxMergedBytes?: number;
}

/** A send waiting for its turn. */
interface Waiting {
  readonly batch: readonly TopicMessages[];
  /** Every message names its partition, so the batch can join others and get its own offsets. */
  readonly partitioned: boolean;
  readonly bytes: number;
  resolve(metadata: WrittenRecords[]): void;
  reject(error: unknown): void;
}

/** A writer that merges concurrent sends into the sends of the producer it wraps. */
export class CoalescingWriter implements KafkaWriter {
  private waiting: Waiting[] = [];
  private draining = false;
  private readonly maxMergedBytes: number;
  /**
   * Sends made to the wrapped producer (kafkajs makes one produce request per broker for each) and
   * caller batches written by them (benchmarks and tests read these).
   */
  readonly stats = { sends: 0, batches: 0 };

  constructor(
    private readonly producer: SharedProducer,
    options: CoalescingOptions = {},
  ) {
    this.maxMergedBytes = options.maxMergedBytes ?? 1_000_000;
  }

  send(batch: readonly TopicMessages[]): Promise<WrittenRecords[]> {
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
        if (group.length === 1) {
          await this.sendAlone(group);
          continue;
        }
        let metadata: WrittenRecords[];
        try {
          this.stats.sends++;
          metadata = await this.producer.write(mergeBatches(group));
        } catch (error) {
          if (refusedRecords(error)) await this.sendAlone(group);
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

  /**
   * Each batch in a send of its own, answered as the producer answers it. After the broker refused
   * records of a merged send (one caller's record too large, say), each batch again on its own, so
   * that the others are not failed for it. A produce request is not all or nothing: partitions the
   * broker had already appended keep those records, so the others' records may be written twice (with
   * the same event ids), as when a caller retries. Only for a refusal of records: a connection,
   * authentication or time-out failure fails the whole group at once, since sending again one by one
   * would only make every caller wait longer.
   */
  private async sendAlone(group: readonly Waiting[]): Promise<void> {
    for (const w of group) {
      try {
        this.stats.sends++;
        const metadata = await this.producer.send(w.batch);
        this.stats.batches++;
        w.resolve(metadata);
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

  /** Disconnects the wrapped producer; the next send connects again. */
  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

/**
 * A {@link WriterFactory} for the functions' `createHandler`: each function its own coalescing writer
 * over its own producer, as each function has its own producer on Lambda. `writers` lists those made,
 * for the process to read their stats and disconnect them.
 */
export function coalescingWriters(options: SharedProducerOptions & CoalescingOptions = {}): {
  readonly create: WriterFactory;
  readonly writers: readonly CoalescingWriter[];
  disconnect(): Promise<void>;
} {
  const writers: CoalescingWriter[] = [];
  return {
    create: (settings: KafkaSettings, log: KafkaLog) => {
      const writer = new CoalescingWriter(new SharedProducer(createKafka(settings, log), options), options);
      writers.push(writer);
      return writer;
    },
    writers,
    disconnect: async () => {
      await Promise.all(writers.splice(0).map((w) => w.disconnect()));
    },
  };
}

/** Roughly what a message adds to a produce request (its record without framing overhead). */
function messageBytes(m: OutgoingMessage): number {
  let bytes =
    m.value.byteLength +
    (m.key === null ? 0 : typeof m.key === 'string' ? m.key.length * 3 : m.key.byteLength);
  const headers = m.headers;
  // for...in rather than Object.entries: no array per message (4–5 % of the local handler's CPU).
  for (const name in headers) {
    const value = headers[name];
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
 * Hands each caller of a merged send (all partitioned) the metadata of its own records: per
 * topic-partition it wrote, the request's entry with the base offset of the caller's first record
 * there (Kafka appends one request's records of a partition contiguously, in order, from that base
 * offset; kafkajs sends a partition's messages as one record batch). A caller a partition of which
 * got no acknowledgement is failed: kafkajs resolves without an entry for a partition it has no
 * leader for (unknown to its metadata), and that write did not happen.
 */
function distribute(group: readonly Waiting[], metadata: readonly WrittenRecords[]): void {
  const acknowledged = new Map<string, { meta: WrittenRecords; next: bigint }>();
  for (const meta of metadata)
    acknowledged.set(`${meta.partition}:${meta.topicName}`, { meta, next: BigInt(meta.baseOffset ?? '0') });
  for (const w of group) {
    const mine = new Map<string, { meta: WrittenRecords; count: bigint }>();
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
