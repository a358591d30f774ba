/**
 * Conservation check for the fault tests: events go in through the local API (a client that retries
 * what was not acknowledged, with the same eventIds, as the API asks), and afterwards every accepted
 * event must be reflected by exactly its derived events, transitively (duplicates dropped by
 * eventId), or sit in a dead-letter topic with a reason. Anything else is a loss.
 *
 * The analytics table must count the accepted events exactly ({@link analyticsTotals}): the run's
 * events all occur on a day of their own ({@link runDay}), so that day's totals are this run's alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { dayOf } from '../../core/analytics';
import { decode } from '../../core/glue-wire-format';
import { analytics, consumers, dlqOf, topics } from '../../core/topology';
import { analyticsClient } from '../../lambdas/analytics/store';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter, EventType } from '../../schemas/index';
import { type DayTotals, dayTotalsInTable } from '../support/analytics-table';
import { readUntil } from '../support/kafka-clients';

/** The source event types of the run and the stream each is posted to. */
const MIX: { type: EventType; stream: string }[] = [
  { type: 'user_registered', stream: 'user' },
  { type: 'order_created', stream: 'order' },
  { type: 'payment_processed', stream: 'payment' },
  { type: 'user_deleted', stream: 'user' },
  // Derives nothing; counted by the analytics as an active user of its day.
  { type: 'user_login', stream: 'user' },
];

/** Every event type derived from `type`, transitively, with multiplicity. */
function derivedFrom(type: EventType): EventType[] {
  return consumers.flatMap((c) =>
    (c.flows[type] ?? []).flatMap((d) => [d.eventType, ...derivedFrom(d.eventType)]),
  );
}

export interface Sent {
  readonly event: AnyEvent;
  readonly stream: string;
}

/**
 * A UTC day no other test counts events on: a random day of a random far-future year (the analytics
 * integration test uses the years 2040–2939, events posted without `occurredAt` get today).
 */
function runDay(): string {
  const year = 5000 + Math.floor(Math.random() * 4000);
  const day = new Date(Date.UTC(year, 0, 1) + Math.floor(Math.random() * 365) * 86_400_000);
  return day.toISOString().slice(0, 10);
}

/**
 * `count` source events of the mix, tagged with `run` in their correlation id, all occurring on `day`
 * (UTC, at distinct seconds), so the analytics totals of that day are the run's.
 */
export function sourceEvents(run: string, count: number, day: string = runDay()): Sent[] {
  const midnight = Date.parse(`${day}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => {
    const { type, stream } = MIX[i % MIX.length] as (typeof MIX)[number];
    const base = eventExamples[type][0] as AnyEvent;
    const data = { ...(base.data as Record<string, unknown>) };
    for (const k of ['userId', 'orderId', 'paymentId'] as const) if (k in data) data[k] = `${k[0]}-${i % 97}`;
    return {
      stream,
      event: {
        ...base,
        eventId: crypto.randomUUID(),
        correlationId: `${run}-${i}`,
        occurredAt: new Date(midnight + (i % 86_400) * 1000).toISOString(),
        data,
      } as AnyEvent,
    };
  });
}

/**
 * Posts every event in batches of `batchSize`, retrying a batch (same eventIds) until it is accepted
 * or `deadline` passes. Returns the eventIds accepted. `between` runs after each batch (faults).
 */
export async function postAll(
  apiUrl: () => string,
  sent: readonly Sent[],
  options: { batchSize?: number; deadlineMs?: number; between?: (batchIndex: number) => Promise<void> } = {},
): Promise<Set<string>> {
  const size = options.batchSize ?? 100;
  const accepted = new Set<string>();
  const deadline = Date.now() + (options.deadlineMs ?? 600_000);
  // Group by stream, keep order within a stream.
  const byStream = new Map<string, Sent[]>();
  for (const s of sent) byStream.set(s.stream, [...(byStream.get(s.stream) ?? []), s]);
  const queue: { stream: string; events: AnyEvent[] }[] = [];
  for (const [stream, list] of byStream) {
    for (let i = 0; i < list.length; i += size)
      queue.push({ stream, events: list.slice(i, i + size).map((s) => s.event) });
  }
  for (const [index, batch] of queue.entries()) {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`batch ${index} not accepted before the deadline`);
      try {
        const response = await fetch(`${apiUrl()}/events/${batch.stream}/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ events: batch.events }),
          signal: AbortSignal.timeout(30_000),
        });
        if (response.status === 202) {
          for (const e of batch.events) accepted.add(e.eventId);
          break;
        }
        if (response.status < 500)
          throw new Error(`batch ${index} refused with ${response.status}: ${await response.text()}`);
      } catch (error) {
        if ((error as Error).message.startsWith(`batch ${index} refused`)) throw error;
      }
      await sleep(250);
    }
    await options.between?.(index);
  }
  return accepted;
}

export interface ConservationReport {
  readonly table: Record<string, number>;
  readonly missing: string[];
}

/**
 * Reads the derived and dead-letter topics until every accepted event is accounted for or
 * `timeoutMs` passes, and returns the in/out table.
 */
export async function account(
  kafka: Kafka,
  run: string,
  sent: readonly Sent[],
  accepted: ReadonlySet<string>,
  timeoutMs = 180_000,
): Promise<ConservationReport> {
  const expected = new Map<string, EventType[]>();
  for (const s of sent)
    if (accepted.has(s.event.eventId)) expected.set(s.event.eventId, derivedFrom(s.event.eventType).sort());
  const derivedTopics = topics.filter((t) => Array.isArray(t.carries)).map((t) => t.name);
  const dlqTopics = consumers.map((c) => dlqOf(c.sourceTopic));
  const derived = new Map<string, AnyEvent>(); // by eventId: duplicates dropped
  const deadLettered = new Set<string>();
  let duplicates = 0;
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = [...expected.keys()];
  const rootOf = new Map<string, string>(); // derived eventId → source eventId
  while (Date.now() < deadline) {
    const messages = await readUntil(
      kafka,
      [...derivedTopics, ...dlqTopics],
      () => true,
      Number.POSITIVE_INFINITY,
      8000,
    );
    derived.clear();
    deadLettered.clear();
    duplicates = 0;
    for (const m of messages) {
      if (!m.message.value) continue;
      if (m.topic.endsWith('.dlq')) {
        const letter = JSON.parse(m.message.value.toString()) as DeadLetter;
        const value = Object.values(letter.payload.records)[0]?.[0]?.value;
        try {
          const bytes = Buffer.from(value ?? '', 'base64');
          const event = JSON.parse((bytes[0] === 3 ? decode(bytes).payload : bytes).toString()) as AnyEvent;
          if (event.correlationId?.startsWith(`${run}-`)) deadLettered.add(event.eventId);
        } catch {
          // a poison record of another test
        }
        continue;
      }
      let event: AnyEvent;
      try {
        event = JSON.parse(decode(m.message.value).payload.toString()) as AnyEvent;
      } catch {
        continue;
      }
      if (!event.correlationId.startsWith(`${run}-`) || !event.causationId) continue;
      if (derived.has(event.eventId)) duplicates++;
      else derived.set(event.eventId, event);
    }
    rootOf.clear();
    for (const e of derived.values()) rootOf.set(e.eventId, e.causationId as string);
    const root = (id: string): string => {
      let at = id;
      for (let hops = 0; hops < 5 && rootOf.has(at); hops++) at = rootOf.get(at) as string;
      return at;
    };
    const reflected = new Map<string, EventType[]>();
    for (const e of derived.values())
      reflected.set(root(e.eventId), [...(reflected.get(root(e.eventId)) ?? []), e.eventType]);
    missing = [...expected]
      .filter(([id, types]) => {
        if (deadLettered.has(id)) return false;
        return JSON.stringify((reflected.get(id) ?? []).sort()) !== JSON.stringify(types);
      })
      .map(([id]) => id);
    if (missing.length === 0) break;
    await sleep(2000);
  }
  const totalDerivedExpected = [...expected.values()].reduce((n, t) => n + t.length, 0);
  return {
    table: {
      'events sent': sent.length,
      'events accepted (202)': accepted.size,
      'derived events expected': totalDerivedExpected,
      'derived events found (unique eventIds)': derived.size,
      'duplicate derived records dropped': duplicates,
      'accepted events dead-lettered': deadLettered.size,
      'accepted events not accounted for': missing.length,
    },
    missing,
  };
}

/** Where the runtime counts the analytics (local/runtime.ts `analyticsStorage`). */
export interface AnalyticsStorage {
  readonly endpoint: string;
  readonly tableName: string;
}

/** What the accepted events of `sent` should add up to, per UTC day of their `occurredAt`. */
function expectedTotals(sent: readonly Sent[], accepted: ReadonlySet<string>): Map<string, DayTotals> {
  const days = new Map<string, DayTotals>();
  const users = new Map<string, Set<string>>();
  for (const { event } of sent) {
    if (!accepted.has(event.eventId)) continue;
    const day = dayOf(event);
    let totals = days.get(day);
    if (!totals) {
      totals = { counts: {}, revenue: {}, activeUsers: 0 };
      days.set(day, totals);
      users.set(day, new Set());
    }
    totals.counts[event.eventType] = (totals.counts[event.eventType] ?? 0) + 1;
    const data = event.data as { amount?: number; currency?: string; userId?: string };
    if (event.eventType === 'payment_processed' || event.eventType === 'payment_refunded') {
      const sign = event.eventType === 'payment_processed' ? 1 : -1;
      const currency = data.currency as string;
      totals.revenue[currency] = (totals.revenue[currency] ?? 0) + sign * (data.amount as number);
    }
    if (event.eventType === 'user_login') {
      const dayUsers = users.get(day) as Set<string>;
      dayUsers.add(data.userId as string);
      totals.activeUsers = dayUsers.size;
    }
  }
  return days;
}

/**
 * Waits until every analytics mapping has committed past what its source topic held when this was
 * called (every record of the run, written before the API answered 202, was then counted, or given up
 * on), then reads the table: per day of the run's events, the expected and the counted totals.
 */
export async function analyticsTotals(
  kafka: Kafka,
  storage: AnalyticsStorage,
  sent: readonly Sent[],
  accepted: ReadonlySet<string>,
  timeoutMs = 300_000,
): Promise<{
  expected: Record<string, DayTotals>;
  counted: Record<string, DayTotals>;
  table: Record<string, number>;
}> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (const { topic, mapping } of analytics.sources) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (;;) {
        // A coordinator moving (a broker killed, a group loading) fails a request now and then: ask again.
        const [committed] = await admin
          .fetchOffsets({ groupId: mapping.consumerGroupId, topics: [topic] })
          .catch(() => []);
        const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
        const behind = ends.filter((e) => (at.get(e.partition) ?? -1n) < BigInt(e.high));
        if (behind.length === 0) break;
        if (Date.now() > deadline) {
          throw new Error(
            `${mapping.consumerGroupId} has not committed up to the end of ${topic} within ${timeoutMs} ms (partitions ${behind.map((e) => e.partition).join(', ')} behind)`,
          );
        }
        await sleep(1000);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const expected = expectedTotals(sent, accepted);
  const client = await analyticsClient({ ...process.env, DYNAMODB_ENDPOINT: storage.endpoint });
  const counted: Record<string, DayTotals> = {};
  try {
    for (const day of expected.keys()) counted[day] = await dayTotalsInTable(client, storage.tableName, day);
  } finally {
    client.destroy();
  }
  const table: Record<string, number> = {};
  for (const [day, totals] of expected) {
    for (const [type, n] of Object.entries(totals.counts)) {
      table[`${day} ${type} accepted`] = n;
      table[`${day} ${type} counted`] = counted[day]?.counts[type] ?? 0;
    }
    for (const [currency, amount] of Object.entries(totals.revenue)) {
      table[`${day} revenue ${currency} expected`] = amount;
      table[`${day} revenue ${currency} counted`] = counted[day]?.revenue[currency] ?? 0;
    }
    table[`${day} active users expected`] = totals.activeUsers;
    table[`${day} active users counted`] = counted[day]?.activeUsers ?? 0;
  }
  return { expected: Object.fromEntries(expected), counted, table };
}

export function printTable(title: string, table: Record<string, number>): void {
  const width = Math.max(...Object.keys(table).map((k) => k.length));
  console.log(
    `\n${title}\n${Object.entries(table)
      .map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(7)}`)
      .join('\n')}\n`,
  );
}
