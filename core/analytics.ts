/**
 * The analytics write side, pure: what a batch of events becomes in the analytics table. No AWS SDK:
 * the items and transactions are plain objects in DynamoDB's JSON shapes (AttributeValues `{S}`,
 * `{N}`), which lambdas/analytics/store.ts sends as they are.
 *
 * Single table, partition key `pk`, sort key `sk`, TTL attribute `expiresAt`:
 * - event marker `EVENT#<eventId>` / `EVENT` (`day`, `eventType`, `expiresAt`): this event is counted;
 * - day totals `DAY#<YYYY-MM-DD>` / `TOTALS`: `count_<eventType>`, `revenue_<CURRENCY>` (minor units,
 *   processed payments minus refunds), created and grown by `ADD`;
 * - active user `DAY#<YYYY-MM-DD>` / `USER#<userId>`: the user logged in that day.
 *
 * Exactly once, by construction: each transaction puts the markers of its events on the condition that
 * they do not exist yet and adds those same events to the day totals; it commits whole or not at all
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html: "an
 * all-or-nothing operation"). An event already counted fails its marker's condition and cancels the
 * transaction; the store drops it and sends the rest again. A transaction holds at most 100 items and
 * cannot touch one item twice (same page), hence one `Update` per day per transaction, user markers
 * deduplicated, and batches cut into chunks.
 */
import type { AnyEvent } from '../schemas/index';
import { type AnalyticsSpec, analytics, type ConsumerSpec, topics } from './topology';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Most actions in one TransactWriteItems call (API_TransactWriteItems.html, "TransactItems": 1–100 items). */
export const MAX_TRANSACTION_ITEMS = 100;

/** Kafka's default `segment.ms`: a record can outlive its topic's retention by up to this long. */
const KAFKA_DEFAULT_SEGMENT_MS = 7 * DAY_MS;

/**
 * How long an event marker is kept: the longest any topic keeps a record (the 28-day retention of
 * `<topic>.dlq`, from which a re-drive writes a record back to its source topic), plus Kafka's default
 * `segment.ms` (a topic deletes records a segment at a time, so a record can outlive the retention by up
 * to that, https://kafka.apache.org/documentation/#topicconfigs_segment.ms), plus a day: 36 days with
 * today's topology. The record age limit (6 h) and the 7-day retention of the source topics end well
 * before. DynamoDB deletes expired items some time after `expiresAt`, never before it
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html), so a marker
 * lives at least this long.
 */
export const EVENT_MARKER_TTL_SECONDS =
  (Math.max(...topics.map((t) => t.retentionMs)) + KAFKA_DEFAULT_SEGMENT_MS + DAY_MS) / 1000;

/** The table's TTL attribute (epoch seconds, a Number). */
export const TTL_ATTRIBUTE = 'expiresAt';

type S = { S: string };
type N = { N: string };
export type Key = { pk: S; sk: S };

/** The partition key of a day's items (its totals and its active users). */
export const dayPartitionKey = (day: string): string => `DAY#${day}`;
/** The sort key of a day's totals item. */
export const TOTALS_SORT_KEY = 'TOTALS';
/** The sort-key prefix of a day's active-user items. */
export const USER_SORT_KEY_PREFIX = 'USER#';
/** Attribute-name prefixes of the totals item: counts per event type, revenue per currency. */
export const COUNT_PREFIX = 'count_';
export const REVENUE_PREFIX = 'revenue_';

export const eventMarkerKey = (eventId: string): Key => ({
  pk: { S: `EVENT#${eventId}` },
  sk: { S: 'EVENT' },
});
export const dayTotalsKey = (day: string): Key => ({
  pk: { S: dayPartitionKey(day) },
  sk: { S: TOTALS_SORT_KEY },
});
export const activeUserKey = (day: string, userId: string): Key => ({
  pk: { S: dayPartitionKey(day) },
  sk: { S: `${USER_SORT_KEY_PREFIX}${userId}` },
});

/** Attribute of a day's count of `eventType`. */
const countAttribute = (eventType: string): string => `${COUNT_PREFIX}${eventType}`;
/** Attribute of a day's net revenue in `currency` (minor units). */
const revenueAttribute = (currency: string): string => `${REVENUE_PREFIX}${currency}`;

/** RFC 3339 date-time with an explicit offset, as the contracts require of `occurredAt`. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The UTC day (`YYYY-MM-DD`) of the event's `occurredAt`. Parsed by hand rather than with `Date`,
 * which rejects a leap second (`23:59:60`, valid RFC 3339): the second does not change the day but
 * the offset does (`2026-11-23T00:30:00+01:00` is the 22nd in UTC).
 */
export function dayOf(event: Pick<AnyEvent, 'occurredAt'>): string {
  const m = RFC3339.exec(event.occurredAt);
  if (!m) throw new Error(`occurredAt "${event.occurredAt}" is not an RFC 3339 date-time with an offset`);
  const [, y, mo, d, h, mi, , zone] = m as unknown as string[];
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone?.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(zone?.slice(1, 3)) * 60 + Number(zone?.slice(4, 6)));
  }
  const utc = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi) - offsetMinutes));
  if (Number.isNaN(utc.getTime())) throw new Error(`occurredAt "${event.occurredAt}" is not a date`);
  return utc.toISOString().slice(0, 10);
}

/** What one event adds to its day. */
export interface Contribution {
  readonly day: string;
  readonly eventType: string;
  /** Signed minor units: payment_processed adds, payment_refunded subtracts. */
  readonly revenue?: { readonly currency: string; readonly amount: number };
  /** The user of a `user_login`, an active user of the day. */
  readonly activeUser?: string;
}

export function contributionOf(event: AnyEvent): Contribution {
  const day = dayOf(event);
  switch (event.eventType) {
    case 'payment_processed':
      return {
        day,
        eventType: event.eventType,
        revenue: { currency: event.data.currency, amount: event.data.amount },
      };
    case 'payment_refunded':
      return {
        day,
        eventType: event.eventType,
        revenue: { currency: event.data.currency, amount: -event.data.amount },
      };
    case 'user_login':
      return { day, eventType: event.eventType, activeUser: event.data.userId };
    default:
      return { day, eventType: event.eventType };
  }
}

/** One action of a TransactWriteItems request, in the API's shape (TableName filled in). */
export type TransactItem =
  | {
      readonly Put: {
        readonly TableName: string;
        readonly Item: Record<string, S | N>;
        readonly ConditionExpression?: string;
      };
    }
  | {
      readonly Update: {
        readonly TableName: string;
        readonly Key: Key;
        readonly UpdateExpression: string;
        readonly ExpressionAttributeNames: Record<string, string>;
        readonly ExpressionAttributeValues: Record<string, N>;
      };
    };

/** One transaction: its actions and, for each action that is an event marker, the event's id. */
export interface AnalyticsTransaction {
  readonly items: TransactItem[];
  /** `eventIds[i]` is the event whose marker is `items[i]`, undefined for the other actions. */
  readonly eventIds: (string | undefined)[];
}

/** An event to count: its id and what it adds. */
export interface Countable {
  readonly eventId: string;
  readonly contribution: Contribution;
}

export const countable = (event: AnyEvent): Countable => ({
  eventId: event.eventId,
  contribution: contributionOf(event),
});

/** The day totals of a set of events: `ADD` amounts by attribute, per day. */
function dayIncrements(events: readonly Countable[]): Map<string, Map<string, number>> {
  const days = new Map<string, Map<string, number>>();
  for (const { contribution: c } of events) {
    let adds = days.get(c.day);
    if (!adds) {
      adds = new Map();
      days.set(c.day, adds);
    }
    const count = countAttribute(c.eventType);
    adds.set(count, (adds.get(count) ?? 0) + 1);
    if (c.revenue) {
      const revenue = revenueAttribute(c.revenue.currency);
      adds.set(revenue, (adds.get(revenue) ?? 0) + c.revenue.amount);
    }
  }
  return days;
}

/** The transaction that counts `events` (ids distinct, at most {@link MAX_TRANSACTION_ITEMS} actions in all). */
export function transactionOf(
  tableName: string,
  events: readonly Countable[],
  nowSeconds: number,
): AnalyticsTransaction {
  const items: TransactItem[] = [];
  const eventIds: (string | undefined)[] = [];
  const expiresAt = String(nowSeconds + EVENT_MARKER_TTL_SECONDS);
  for (const { eventId, contribution } of events) {
    items.push({
      Put: {
        TableName: tableName,
        Item: {
          ...eventMarkerKey(eventId),
          day: { S: contribution.day },
          eventType: { S: contribution.eventType },
          [TTL_ATTRIBUTE]: { N: expiresAt },
        },
        // Counted once: a marker that exists cancels the transaction (ConditionalCheckFailed).
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    eventIds.push(eventId);
  }
  for (const [day, adds] of dayIncrements(events)) {
    const names: Record<string, string> = {};
    const values: Record<string, N> = {};
    const parts: string[] = [];
    let i = 0;
    for (const [attribute, amount] of adds) {
      // Zero too (a refund that cancels a payment of the same transaction): the currency is listed
      // however the events fell into transactions.
      names[`#a${i}`] = attribute;
      values[`:a${i}`] = { N: String(amount) };
      parts.push(`#a${i} :a${i}`);
      i++;
    }
    items.push({
      Update: {
        TableName: tableName,
        Key: dayTotalsKey(day),
        UpdateExpression: `ADD ${parts.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    });
    eventIds.push(undefined);
  }
  const users = new Set<string>();
  for (const { contribution: c } of events) {
    if (c.activeUser === undefined) continue;
    const key = JSON.stringify([c.day, c.activeUser]);
    if (users.has(key)) continue;
    users.add(key);
    // No condition: putting an existing user marker again changes nothing, so the set stays a set.
    items.push({ Put: { TableName: tableName, Item: activeUserKey(c.day, c.activeUser) } });
    eventIds.push(undefined);
  }
  return { items, eventIds };
}

/** Actions a set of events needs: a marker each, an update per day, a put per (day, user). */
class ChunkSize {
  private events = 0;
  private readonly days = new Set<string>();
  private readonly users = new Set<string>();
  get total(): number {
    return this.events + this.days.size + this.users.size;
  }
  /** The total with `c` added. */
  with(c: Contribution): number {
    const newDay = this.days.has(c.day) ? 0 : 1;
    const newUser =
      c.activeUser !== undefined && !this.users.has(JSON.stringify([c.day, c.activeUser])) ? 1 : 0;
    return this.total + 1 + newDay + newUser;
  }
  add(c: Contribution): void {
    this.events++;
    this.days.add(c.day);
    if (c.activeUser !== undefined) this.users.add(JSON.stringify([c.day, c.activeUser]));
  }
}

/**
 * A batch's events cut into groups that each fit one transaction, in order; an `eventId` that occurs
 * twice is kept once (its first occurrence), since a transaction cannot put one marker twice and the
 * second copy must not count anyway.
 */
export function chunkEvents(events: readonly Countable[]): Countable[][] {
  const seen = new Set<string>();
  const chunks: Countable[][] = [];
  let current: Countable[] = [];
  let size = new ChunkSize();
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    if (current.length > 0 && size.with(event.contribution) > MAX_TRANSACTION_ITEMS) {
      chunks.push(current);
      current = [];
      size = new ChunkSize();
    }
    current.push(event);
    size.add(event.contribution);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * One source of the analytics function as a consumer: its source topic and mapping, nothing derived.
 * What the record reader (lambdas/consumers/consumer.ts `readEvent`, which checks the topic carries
 * the event) and the local event-source mapping (local/consumer-mapping.ts) take.
 */
export function analyticsSourceSpec(source: AnalyticsSpec['sources'][number]): ConsumerSpec {
  return {
    name: analytics.name,
    entry: analytics.entry,
    description: analytics.description,
    sourceTopic: source.topic,
    flows: {},
    mapping: source.mapping,
    timeoutSeconds: analytics.timeoutSeconds,
    memoryMb: analytics.memoryMb,
  };
}
