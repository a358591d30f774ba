/**
 * Re-driving dead letters: each selected dead letter's original record (key, value and headers byte
 * for byte, from `payload.records[tp][0]`) is written back to the topic it was read from, with one
 * more header, `redriven-from: <dlq>/<partition>/<offset>`. A value the mapping had delivered as JSON
 * (a dead letter the handler wrote) is framed again for the schema registry first (./reframe.ts);
 * a dead letter whose value cannot be is reported as skipped, unmarked, and the others are sent.
 *
 * Marking what was re-driven — a compacted topic `<dlq>.redriven`, one record per re-driven dead
 * letter, keyed `<partition>/<offset>`:
 * - Order of writes, at least once: the originals are written and acknowledged by every in-sync replica
 *   (acks=all, idempotent producer) before their markers are written (acks=all too). A crash in between
 *   leaves them unmarked, so the next run writes them again: a duplicate, never a loss. Consumers
 *   already tolerate that: the re-driven record keeps its `eventId`, and derived events get
 *   deterministic ids (docs/architecture.md, "Consumers"). A Kafka transaction over both writes would remove the
 *   duplicate but needs transactional-id permissions on MSK and read_committed consumers everywhere;
 *   not worth it for an operator action that is safe to repeat.
 * - The marker topic is declared in core/topology.ts (`redrive_log`) and created by the stack and by
 *   `npm start`; re-drive only checks that it exists, so the operator needs no right to create topics.
 * - Why not a consumer group `redrive-<dlq>` whose committed offset advances past re-driven records:
 *   (1) a committed offset marks a prefix of each partition, but `--from-offset/--to-offset` re-drive a
 *   range in the middle; marking it would mean skipping the records before it. (2) Kafka deletes the
 *   committed offsets of a group without members after `offsets.retention.minutes` (7 days by default,
 *   on MSK too), while dead letters are kept 28 days (core/topology.ts): a second run a week later
 *   would send everything again. A compacted topic keeps the latest record of every key for good
 *   (https://kafka.apache.org/documentation/#compaction), so each mark lasts as long as it matters, at
 *   about 200 bytes per re-driven dead letter, on the cluster that is already there.
 * - Why not only the `redriven-from` header: finding it means scanning the source topics, which keep
 *   records 7 days, less than the dead letters they would have to vouch for.
 * - A re-driven record that fails again becomes a new dead letter at a new offset, unmarked: it can be
 *   re-driven again. Two re-drives of the same DLQ running at once may both send a record; run one.
 *
 * Where records go: to the original partition (so a key's re-driven records sit with the records
 * that followed them; this project never changes partition counts, lambdas/shared/topics.ts), or, if
 * that partition no longer exists, to the key's partition. The timestamp is the time of the re-drive,
 * not the original's: with the original, a record older than the mapping's MaximumRecordAgeInSeconds
 * would be dead-lettered again at once as RecordAgeExceeded
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html). Header order is
 * kept except that kafkajs sends repeated names together (its headers are an object of name → values).
 */
import { type IHeaders, Partitioners, type Producer } from 'kafkajs';
import type { OpsClients } from './clients';
import { OpsError, UsageError } from './clients';
import {
  type DeadLetterEntry,
  letterKey,
  markerMap,
  markerTopicOf,
  type OriginalRecord,
  parseDeadLetter,
  type RedriveMarker,
} from './dead-letters';
import { existingTopics, type PartitionWindow, readWindows, topicOffsets, wholeTopic } from './read';
import {
  type CurrentSchemaIds,
  ReframeError,
  redriveKey,
  redriveValue,
  schemaIdsFromEnvironment,
} from './reframe';

/** Header added to every re-driven record: `<dlq>/<partition>/<offset>` of its dead letter. */
export const REDRIVEN_FROM_HEADER = 'redriven-from';

export interface RedriveOptions {
  readonly dlqTopic: string;
  /** Only this partition of the DLQ. @default every partition */
  readonly partition?: number;
  /** First DLQ offset to re-drive, in each selected partition. @default the start */
  readonly fromOffset?: bigint;
  /** Last DLQ offset to re-drive (inclusive), in each selected partition. @default the end */
  readonly toOffset?: bigint;
  /** Report what would be re-driven; write nothing. */
  readonly dryRun?: boolean;
  /** Records per write (each write is acknowledged, then marked). @default 100 */
  readonly chunkSize?: number;
  /**
   * Current schema version ids, for JSON values that carry no schema metadata.
   * @default from the environment (./reframe.ts `schemaIdsFromEnvironment`)
   */
  readonly schemaIds?: CurrentSchemaIds;
}

/** One dead letter re-driven (or, in a dry run, to be). */
export interface RedrivenItem {
  readonly entry: DeadLetterEntry;
  /** Where the original went; offset null in a dry run. */
  readonly to: RedriveMarker['to'];
  /** The schema version id its JSON value was framed with again; absent when sent as it was. */
  readonly framedWith?: string;
}

export interface RedriveResult {
  readonly dlqTopic: string;
  readonly markerTopic: string;
  readonly dryRun: boolean;
  /** Written and marked (dry run: would be). */
  readonly redriven: RedrivenItem[];
  /** Selected, but re-driven by an earlier run. */
  readonly alreadyRedriven: DeadLetterEntry[];
  /** Selected, but not re-drivable: not a dead letter, or its source topic is gone. */
  readonly skipped: DeadLetterEntry[];
}

const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

/** Re-drives the selected dead letters of a DLQ topic that no earlier run re-drove. */
export async function redrive(clients: OpsClients, options: RedriveOptions): Promise<RedriveResult> {
  const { admin, kafka } = clients;
  const dlq = options.dlqTopic;
  if (dlq.endsWith('.redriven'))
    throw new UsageError(`"${dlq}" is a marker topic; name its dead-letter topic`);
  if (
    options.fromOffset !== undefined &&
    options.toOffset !== undefined &&
    options.fromOffset > options.toOffset
  ) {
    throw new UsageError(`--from-offset ${options.fromOffset} is after --to-offset ${options.toOffset}`);
  }
  const present = await existingTopics(admin);
  if (!present.has(dlq)) throw new OpsError(`no topic named "${dlq}"`);
  const markerTopic = markerTopicOf(dlq);
  const dryRun = options.dryRun === true;
  if (!present.has(markerTopic)) {
    throw new OpsError(
      `no topic named "${markerTopic}", where re-drive records what it sent: core/topology.ts declares one ` +
        'for each dead-letter topic, which the stack (and npm start) create; deploy the stack, or create it ' +
        '(1 partition, cleanup.policy=compact)',
    );
  }

  const offsets = await topicOffsets(admin, dlq);
  if (options.partition !== undefined && !offsets.some((o) => o.partition === options.partition)) {
    throw new OpsError(`"${dlq}" has no partition ${options.partition}`);
  }
  const windows: PartitionWindow[] = offsets.map((o) => {
    if (options.partition !== undefined && o.partition !== options.partition) {
      return { topic: dlq, partition: o.partition, from: o.high, end: o.high };
    }
    const from = options.fromOffset !== undefined && options.fromOffset > o.low ? options.fromOffset : o.low;
    const last =
      options.toOffset !== undefined && options.toOffset + 1n < o.high ? options.toOffset + 1n : o.high;
    return { topic: dlq, partition: o.partition, from: from < last ? from : last, end: last };
  });
  const markerWindows = wholeTopic(markerTopic, await topicOffsets(admin, markerTopic));
  const records = await readWindows(kafka, [...windows, ...markerWindows]);
  const markers = markerMap(records.filter((r) => r.topic === markerTopic));

  const plan: { entry: DeadLetterEntry; original: OriginalRecord }[] = [];
  const alreadyRedriven: DeadLetterEntry[] = [];
  const skipped: DeadLetterEntry[] = [];
  for (const record of records.filter((r) => r.topic === dlq)) {
    const { entry, original } = parseDeadLetter(record, markers);
    if (entry.redriven) alreadyRedriven.push(entry);
    else if (!original) skipped.push(entry);
    else plan.push({ entry, original });
  }

  // Where each original goes: its partition if the source topic still has it.
  const partitionsOf = new Map<string, number>();
  for (const topic of new Set(plan.map((p) => p.original.topic))) {
    if (!present.has(topic)) continue;
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    partitionsOf.set(topic, meta?.partitions.length ?? 0);
  }
  const schemaIds = options.schemaIds ?? schemaIdsFromEnvironment();
  const sendable: Sendable[] = [];
  for (const p of plan) {
    const count = partitionsOf.get(p.original.topic);
    if (count === undefined) {
      skipped.push({ ...p.entry, problem: `its source topic "${p.original.topic}" does not exist` });
      continue;
    }
    let key: Buffer | null;
    let value: Awaited<ReturnType<typeof redriveValue>>;
    try {
      key = redriveKey(p.original.key, p.original.keySchemaMetadata).bytes;
      value = await redriveValue(p.original.value, p.original.valueSchemaMetadata, schemaIds);
    } catch (error) {
      if (!(error instanceof ReframeError)) throw error;
      skipped.push({
        ...p.entry,
        problem: `cannot be re-driven as the mapping would accept it: ${error.message}`,
      });
      continue;
    }
    sendable.push({
      ...p,
      key,
      value: value.bytes,
      ...(value.framedWith ? { framedWith: value.framedWith } : {}),
      partition: p.original.partition < count ? p.original.partition : undefined,
    });
  }

  if (dryRun) {
    return {
      dlqTopic: dlq,
      markerTopic,
      dryRun,
      redriven: sendable.map((s) => ({
        entry: s.entry,
        to: { topic: s.original.topic, partition: s.partition ?? -1, offset: null },
        ...(s.framedWith ? { framedWith: s.framedWith } : {}),
      })),
      alreadyRedriven,
      skipped,
    };
  }

  const redriven: RedrivenItem[] = [];
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // The Java client's murmur2 partitioner, as the functions use, for records whose partition is gone.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    for (const chunk of chunks(sendable, options.chunkSize ?? 100)) {
      const targets = await writeOriginals(producer, dlq, chunk);
      const at = new Date().toISOString();
      const done = chunk.map((s, i) => ({
        entry: s.entry,
        to: targets[i] as RedriveMarker['to'],
        framedWith: s.framedWith,
      }));
      try {
        await producer.sendBatch({
          acks: -1,
          timeout: 30_000,
          topicMessages: [
            {
              topic: markerTopic,
              messages: done.map(({ entry, to }) => ({
                key: letterKey(entry.partition, entry.offset),
                value: JSON.stringify({
                  dlq,
                  partition: entry.partition,
                  offset: entry.offset,
                  to,
                  at,
                } satisfies RedriveMarker),
                headers: { 'content-type': 'application/json' },
              })),
            },
          ],
        });
      } catch (error) {
        throw new OpsError(
          `re-drove ${redriven.length + done.length} record(s) but could not mark the last ${done.length} in ${markerTopic}: ` +
            `the next run will send those again (${(error as Error).message})`,
          1,
          { cause: error },
        );
      }
      redriven.push(
        ...done.map((d) => ({
          entry: {
            ...d.entry,
            redriven: { dlq, partition: d.entry.partition, offset: d.entry.offset, to: d.to, at },
          },
          to: d.to,
          ...(d.framedWith ? { framedWith: d.framedWith } : {}),
        })),
      );
    }
  } catch (error) {
    if (error instanceof OpsError) throw error;
    throw new OpsError(
      `re-drive of ${dlq} stopped after ${redriven.length} of ${sendable.length} record(s): ${(error as Error).message}`,
      1,
      { cause: error },
    );
  } finally {
    await producer.disconnect().catch(() => {});
  }
  return { dlqTopic: dlq, markerTopic, dryRun, redriven, alreadyRedriven, skipped };
}

/** A dead letter to send: what to write (key and value possibly framed again) and where. */
interface Sendable {
  readonly entry: DeadLetterEntry;
  readonly original: OriginalRecord;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly framedWith?: string;
  readonly partition: number | undefined;
}

/** Writes a chunk of originals, acks=all; returns where each landed, in order. */
async function writeOriginals(
  producer: Producer,
  dlq: string,
  chunk: readonly Sendable[],
): Promise<RedriveMarker['to'][]> {
  const byTopic = new Map<string, typeof chunk>();
  for (const s of chunk) byTopic.set(s.original.topic, [...(byTopic.get(s.original.topic) ?? []), s]);
  const metadata = await producer.sendBatch({
    acks: -1,
    timeout: 30_000,
    topicMessages: [...byTopic].map(([topic, items]) => ({
      topic,
      messages: items.map((s) => ({
        key: s.key,
        value: s.value,
        headers: headersOf(s.original, `${dlq}/${s.entry.partition}/${s.entry.offset}`),
        ...(s.partition === undefined ? {} : { partition: s.partition }),
      })),
    })),
  });
  // kafkajs answers with each partition's base offset; with an idempotent producer and one request in
  // flight, a partition's records of one write are consecutive from there, in the order sent. Where
  // the partitioner chose, the record's offset is not known (null).
  const next = new Map(metadata.map((m) => [`${m.topicName}/${m.partition}`, BigInt(m.baseOffset ?? '-1')]));
  return chunk.map((s) => {
    if (s.partition === undefined) return { topic: s.original.topic, partition: -1, offset: null };
    const k = `${s.original.topic}/${s.partition}`;
    const offset = next.get(k);
    if (offset === undefined || offset < 0n)
      return { topic: s.original.topic, partition: s.partition, offset: null };
    next.set(k, offset + 1n);
    return { topic: s.original.topic, partition: s.partition, offset: String(offset) };
  });
}

/** The original headers, byte for byte, plus {@link REDRIVEN_FROM_HEADER} (after any earlier ones). */
function headersOf(original: OriginalRecord, from: string): IHeaders {
  const headers = new Map<string, Buffer[]>();
  for (const [name, value] of [...original.headers, [REDRIVEN_FROM_HEADER, Buffer.from(from)] as const]) {
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  return Object.fromEntries(
    [...headers].map(([name, values]) => [name, values.length === 1 ? values[0] : values]),
  );
}

/** Chunks of at most `size` records and about {@link MAX_CHUNK_BYTES}. */
function* chunks<T extends { key: Buffer | null; value: Buffer | null }>(
  items: readonly T[],
  size: number,
): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = (item.key?.byteLength ?? 0) + (item.value?.byteLength ?? 0) + 256;
    if (chunk.length > 0 && (chunk.length >= size || bytes + itemBytes > MAX_CHUNK_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += itemBytes;
  }
  if (chunk.length > 0) yield chunk;
}

/** The result as text for a terminal. */
export function formatRedrive(result: RedriveResult): string {
  const verb = result.dryRun ? 'would re-drive' : 're-drove';
  const lines = [
    `${result.dlqTopic}: ${verb} ${result.redriven.length}, ${result.alreadyRedriven.length} already re-driven, ${result.skipped.length} skipped`,
  ];
  for (const { entry, to, framedWith } of result.redriven) {
    const where = `${to.topic}${to.partition >= 0 ? ` partition ${to.partition}` : ''}${to.offset !== null ? ` offset ${to.offset}` : ''}`;
    const framed = framedWith ? `, framed again with schema ${framedWith}` : '';
    lines.push(
      `  ${result.dlqTopic}/${entry.partition}/${entry.offset} -> ${where}  (${entry.condition ?? '?'}${framed})`,
    );
  }
  for (const e of result.skipped)
    lines.push(`  skipped ${e.dlqTopic}/${e.partition}/${e.offset}: ${e.problem}`);
  return lines.join('\n');
}
