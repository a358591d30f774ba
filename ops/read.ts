/**
 * Reading a bounded slice of topics: from a given offset of each partition up to the end it had when
 * the read began. kafkajs has no `assign()` (only consumer groups), so the read joins a throw-away
 * group of its own, commits nothing (a group without offsets disappears when its member leaves) and
 * seeks each partition to where the slice starts.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { OpsError } from './clients';

/** One partition's slice: offsets `from` (inclusive) to `end` (exclusive). */
export interface PartitionWindow {
  readonly topic: string;
  readonly partition: number;
  readonly from: bigint;
  readonly end: bigint;
}

/** A record as read, with its headers in the order they came (a name may repeat). */
export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly (readonly [string, Buffer])[];
}

/** A partition's first and next offsets (`low` = log start, `high` = high watermark). */
export interface PartitionOffsets {
  readonly partition: number;
  readonly low: bigint;
  readonly high: bigint;
}

/** Names of the topics on the cluster. */
export async function existingTopics(admin: Admin): Promise<Set<string>> {
  return new Set(await admin.listTopics());
}

/** Every partition's offsets; the topic must exist. */
export async function topicOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}

/** Records in a partition (high watermark minus log start). */
export const messageCount = (offsets: readonly PartitionOffsets[]): number =>
  offsets.reduce((n, o) => n + Number(o.high - o.low), 0);

/** Windows over every partition of a topic: the whole topic. */
export const wholeTopic = (topic: string, offsets: readonly PartitionOffsets[]): PartitionWindow[] =>
  offsets.map((o) => ({ topic, partition: o.partition, from: o.low, end: o.high }));

/** Windows over the last `n` records of each partition. */
export const lastOf = (topic: string, offsets: readonly PartitionOffsets[], n: number): PartitionWindow[] =>
  offsets.map((o) => {
    const from = o.high - BigInt(n);
    return { topic, partition: o.partition, from: from > o.low ? from : o.low, end: o.high };
  });

/** Header list of a kafkajs message, in order; repeated names keep every value. */
function headerList(message: Pick<KafkaMessage, 'headers'>): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined) out.push([name, typeof v === 'string' ? Buffer.from(v) : v]);
    }
  }
  return out;
}

/** The {@link ReadRecord} of a kafkajs message. */
export function toReadRecord(topic: string, partition: number, message: KafkaMessage): ReadRecord {
  return {
    topic,
    partition,
    offset: BigInt(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key,
    value: message.value,
    headers: headerList(message),
  };
}

export interface ReadOptions {
  /** Give up (with an {@link OpsError}) after this long. @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * Reads every record of `windows`, sorted by topic, partition and offset. Give a window for every
 * partition of each topic read (an empty one, `from` = `end`, for partitions to skip): a partition
 * without one would be read from its start and discarded.
 */
export async function readWindows(
  kafka: Kafka,
  windows: readonly PartitionWindow[],
  options: ReadOptions = {},
): Promise<ReadRecord[]> {
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const open = new Map(windows.filter((w) => w.end > w.from).map((w) => [key(w.topic, w.partition), w]));
  if (open.size === 0) return [];
  const byWindow = new Map(windows.map((w) => [key(w.topic, w.partition), w]));
  const seen = new Set<string>();
  const out: ReadRecord[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;

  let finish: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const consumer = kafka.consumer({
    groupId: `ops-read-${randomUUID()}`,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
    retry: { retries: 5 },
  });
  // END_BATCH_PROCESS is also emitted for batches whose records were all filtered out (control records,
  // compacted gaps), so a partition is known to be read to `end` even when its last offsets hold nothing.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const k = key(payload.topic, payload.partition);
    const window = open.get(k);
    if (window && BigInt(payload.lastOffset) + 1n >= window.end) {
      open.delete(k);
      if (open.size === 0) finish();
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error);
  });
  const timer = setTimeout(() => {
    const left = [...open.values()].map((w) => `${w.topic}/${w.partition}`).join(', ');
    fail(new OpsError(`reading Kafka timed out after ${timeoutMs} ms (still waiting for ${left})`));
  }, timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(windows.map((w) => w.topic))], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const window = byWindow.get(key(batch.topic, batch.partition));
        if (!window) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          const id = `${batch.topic}\u0000${batch.partition}\u0000${offset}`;
          // A fetch made before the seek below may deliver offsets twice or outside the window.
          if (offset < window.from || offset >= window.end || seen.has(id)) continue;
          seen.add(id);
          out.push(toReadRecord(batch.topic, batch.partition, message));
        }
      },
    });
    for (const w of windows)
      consumer.seek({ topic: w.topic, partition: w.partition, offset: String(w.from) });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
  return out.sort((a, b) =>
    a.topic !== b.topic
      ? a.topic < b.topic
        ? -1
        : 1
      : a.partition !== b.partition
        ? a.partition - b.partition
        : Number(a.offset - b.offset),
  );
}
