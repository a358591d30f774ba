/**
 * What the live view shows, read from Kafka on each request (GET /api/overview): every topic of the
 * topology and its record count, each mapping's lag, the recent events with the events they caused,
 * and the dead letters with their reasons. Everything comes from the topics themselves, so the view
 * shows what is on the cluster, not what this process happened to see.
 */
import { consumers, topics } from '../../core/topology';
import type { OpsClients } from '../../ops/clients';
import { type DeadLetterEntry, deadLetterEntries, markerTopicOf } from '../../ops/dead-letters';
import { bytesText, decodeValue } from '../../ops/decode';
import { mappingLags, topologyMappings } from '../../ops/lag';
import {
  existingTopics,
  lastOf,
  messageCount,
  type PartitionWindow,
  type ReadRecord,
  readWindows,
  topicOffsets,
  wholeTopic,
} from '../../ops/read';
import { REDRIVEN_FROM_HEADER } from '../../ops/redrive';

/** A mapping as the runtime runs it. */
export interface MappingStatus {
  readonly name: string;
  readonly state: string;
  readonly lastError?: string | null;
  /** The provisioned pollers the mapping is deployed with; null in on-demand mode. */
  readonly pollers?: { readonly minimum: number; readonly maximum: number } | null;
}

export interface OverviewSources {
  readonly clients: OpsClients;
  readonly brokers: string;
  /** The runtime's mappings; absent when the view runs without them. */
  readonly mappings?: () => readonly MappingStatus[];
}

export interface OverviewOptions {
  /** Recent records read from each partition of each event topic. @default 25 */
  readonly recentPerPartition?: number;
  /** Dead letters read from each partition of each DLQ. @default 50 */
  readonly deadLettersPerPartition?: number;
  /** Event trees shown, most recently active first. @default 40 */
  readonly maxEventTrees?: number;
  /** Dead letters shown, newest first. @default 100 */
  readonly maxDeadLetters?: number;
}

export interface TopicRow {
  readonly name: string;
  /** `source`: a mapping reads it; `derived`: only written by consumers; `dead-letter`. */
  readonly kind: 'source' | 'derived' | 'dead-letter' | 'redrive-log';
  readonly exists: boolean;
  readonly partitions: number;
  /** Records on the topic (high watermark minus log start, summed over partitions). */
  readonly messages: number;
}

export interface MappingRow {
  readonly name: string;
  readonly groupId: string;
  readonly topic: string;
  readonly lag: number;
  readonly state: string | null;
  readonly lastError: string | null;
  /** Provisioned pollers as deployed (locally one consumer reads every partition); null when unknown or on-demand. */
  readonly pollers: { readonly minimum: number; readonly maximum: number } | null;
}

/** An event and, nested, the events derived from it (`causationId` = its `eventId`). */
export interface EventNode {
  readonly eventId: string;
  readonly eventType: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** When the record was written. */
  readonly timestamp: string;
  readonly occurredAt: string | null;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  /** A cause is named but is not among the recent records read. */
  readonly causeNotShown: boolean;
  readonly key: string | null;
  /** Records carrying this `eventId`: more than one after a re-drive or a producer retry. */
  readonly copies: number;
  /** `redriven-from` headers of the copies that were re-driven. */
  readonly redrivenFrom: readonly string[];
  readonly derived: readonly EventNode[];
}

export interface Overview {
  readonly generatedAt: string;
  readonly brokers: string;
  readonly topics: readonly TopicRow[];
  readonly mappings: readonly MappingRow[];
  readonly events: readonly EventNode[];
  readonly deadLetters: readonly DeadLetterEntry[];
}

interface Flat {
  eventId: string;
  eventType: string;
  causationId: string | null;
  correlationId: string | null;
  occurredAt: string | null;
  first: ReadRecord;
  /** Timestamp of the newest copy. */
  last: number;
  copies: number;
  redrivenFrom: string[];
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Reads the overview from the cluster: one metadata pass and one read of every topic's tail. */
export async function readOverview(
  sources: OverviewSources,
  options: OverviewOptions = {},
): Promise<Overview> {
  const { admin, kafka } = sources.clients;
  const present = await existingTopics(admin);
  const rows: TopicRow[] = [];
  const windows: PartitionWindow[] = [];
  for (const t of topics) {
    const kind: TopicRow['kind'] =
      t.carries === 'dead_letter'
        ? 'dead-letter'
        : t.carries === 'redrive_log'
          ? 'redrive-log'
          : consumers.some((c) => c.sourceTopic === t.name)
            ? 'source'
            : 'derived';
    if (!present.has(t.name)) {
      rows.push({ name: t.name, kind, exists: false, partitions: 0, messages: 0 });
      continue;
    }
    const offsets = await topicOffsets(admin, t.name);
    rows.push({
      name: t.name,
      kind,
      exists: true,
      partitions: offsets.length,
      messages: messageCount(offsets),
    });
    // A re-drive log is read whole with its dead-letter topic, below.
    if (kind === 'redrive-log') continue;
    if (kind === 'dead-letter') {
      windows.push(...lastOf(t.name, offsets, options.deadLettersPerPartition ?? 50));
      const markers = markerTopicOf(t.name);
      if (present.has(markers)) windows.push(...wholeTopic(markers, await topicOffsets(admin, markers)));
    } else {
      windows.push(...lastOf(t.name, offsets, options.recentPerPartition ?? 25));
    }
  }
  const [records, lags] = await Promise.all([readWindows(kafka, windows), mappingLags(admin)]);
  const deadLetterTopics = new Set(topics.filter((t) => t.carries === 'dead_letter').map((t) => t.name));
  const isDeadLetterRead = (topic: string) => deadLetterTopics.has(topic) || topic.endsWith('.redriven');

  const states = new Map((sources.mappings?.() ?? []).map((m) => [m.name, m]));
  const mappings: MappingRow[] = topologyMappings().map((m) => ({
    ...m,
    lag: lags.find((l) => l.name === m.name)?.lag ?? 0,
    state: states.get(m.name)?.state ?? null,
    lastError: states.get(m.name)?.lastError ?? null,
    pollers: states.get(m.name)?.pollers ?? null,
  }));

  const deadLetters = deadLetterEntries(records.filter((r) => isDeadLetterRead(r.topic)))
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
    .slice(0, options.maxDeadLetters ?? 100);

  return {
    generatedAt: new Date().toISOString(),
    brokers: sources.brokers,
    topics: rows,
    mappings,
    events: eventTrees(
      records.filter((r) => !isDeadLetterRead(r.topic)),
      options.maxEventTrees ?? 40,
    ),
    deadLetters,
  };
}

/**
 * Event records as trees: each event under the event that caused it. An `eventId` seen on several
 * records (a re-drive writes the original again) is one node with `copies` > 1.
 */
function eventTrees(records: readonly ReadRecord[], max: number): EventNode[] {
  const byId = new Map<string, Flat>();
  for (const record of [...records].sort((a, b) => a.timestamp - b.timestamp)) {
    const value = decodeValue(record.value);
    if (value.format !== 'glue' && value.format !== 'json') continue;
    const json = value.json as Record<string, unknown> | null;
    const eventId = str(json?.eventId);
    const eventType = str(json?.eventType);
    if (!eventId || !eventType) continue;
    const from = record.headers
      .filter(([name]) => name === REDRIVEN_FROM_HEADER)
      .map(([, v]) => v.toString());
    const known = byId.get(eventId);
    if (known) {
      known.copies++;
      known.last = record.timestamp;
      known.redrivenFrom.push(...from);
      continue;
    }
    byId.set(eventId, {
      eventId,
      eventType,
      causationId: str(json?.causationId),
      correlationId: str(json?.correlationId),
      occurredAt: str(json?.occurredAt),
      first: record,
      last: record.timestamp,
      copies: 1,
      redrivenFrom: [...from],
    });
  }
  const children = new Map<string, Flat[]>();
  const roots: Flat[] = [];
  for (const e of byId.values()) {
    if (e.causationId && e.causationId !== e.eventId && byId.has(e.causationId)) {
      children.set(e.causationId, [...(children.get(e.causationId) ?? []), e]);
    } else roots.push(e);
  }
  // Built from the roots with a visited set, so records that name each other as causes cannot loop.
  const visited = new Set<string>();
  const build = (e: Flat): EventNode & { latest: number } => {
    visited.add(e.eventId);
    const derived = (children.get(e.eventId) ?? []).filter((c) => !visited.has(c.eventId)).map(build);
    return {
      eventId: e.eventId,
      eventType: e.eventType,
      topic: e.first.topic,
      partition: e.first.partition,
      offset: String(e.first.offset),
      timestamp: new Date(e.first.timestamp).toISOString(),
      occurredAt: e.occurredAt,
      correlationId: e.correlationId,
      causationId: e.causationId,
      causeNotShown: e.causationId !== null && !byId.has(e.causationId),
      key: bytesText(e.first.key),
      copies: e.copies,
      redrivenFrom: e.redrivenFrom,
      derived: derived.map(({ latest: _, ...node }) => node),
      latest: Math.max(e.last, ...derived.map((d) => d.latest)),
    };
  };
  return roots
    .map(build)
    .sort((a, b) => b.latest - a.latest)
    .slice(0, max)
    .map(({ latest: _, ...node }) => node);
}
