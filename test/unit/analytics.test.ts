/**
 * The analytics write side (core/analytics.ts): the day of an event, and the transactions a batch
 * becomes. The transactions are applied here to a plain map by the rules of TransactWriteItems
 * (all or nothing, a failed condition cancels, ADD adds) so the tests can state the totals they give.
 */
import { describe, expect, it } from 'vitest';
import {
  type AnalyticsTransaction,
  activeUserKey,
  chunkEvents,
  contributionOf,
  countable,
  dayOf,
  dayTotalsKey,
  EVENT_MARKER_TTL_SECONDS,
  eventMarkerKey,
  MAX_TRANSACTION_ITEMS,
  transactionOf,
} from '../../core/analytics';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, EventType } from '../../schemas/index';

const TABLE = 'test-analytics';
const NOW_S = 1_800_000_000;

let serial = 0;
function event<T extends EventType>(
  type: T,
  occurredAt: string,
  data: Partial<AnyEvent['data']> = {},
): AnyEvent {
  const example = eventExamples[type][0] as AnyEvent;
  serial++;
  return {
    ...example,
    eventId: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    occurredAt,
    data: { ...example.data, ...data },
  } as AnyEvent;
}

type Table = Map<string, Record<string, { S?: string; N?: string }>>;
const keyOf = (k: { pk: { S: string }; sk: { S: string } }) => `${k.pk.S}|${k.sk.S}`;

/** Applies a transaction by TransactWriteItems' rules; returns the event ids whose condition failed. */
function apply(table: Table, tx: AnalyticsTransaction): string[] {
  const seen = new Set<string>();
  const failed: string[] = [];
  for (const [i, item] of tx.items.entries()) {
    const key = 'Put' in item ? keyOf(item.Put.Item as never) : keyOf(item.Update.Key);
    if (seen.has(key)) throw new Error(`transaction touches ${key} twice`);
    seen.add(key);
    if ('Put' in item && item.Put.ConditionExpression && table.has(key))
      failed.push(tx.eventIds[i] as string);
  }
  if (tx.items.length > MAX_TRANSACTION_ITEMS) throw new Error('too many items');
  if (failed.length > 0) return failed;
  for (const item of tx.items) {
    if ('Put' in item) {
      table.set(keyOf(item.Put.Item as never), { ...item.Put.Item });
      continue;
    }
    const { Key, UpdateExpression, ExpressionAttributeNames, ExpressionAttributeValues } = item.Update;
    const current: Record<string, { S?: string; N?: string }> = { ...(table.get(keyOf(Key)) ?? Key) };
    for (const part of UpdateExpression.replace(/^ADD /, '').split(', ')) {
      const [name, value] = part.split(' ') as [string, string];
      const attribute = ExpressionAttributeNames[name] as string;
      const add = Number(ExpressionAttributeValues[value]?.N);
      current[attribute] = { N: String(Number(current[attribute]?.N ?? 0) + add) };
    }
    table.set(keyOf(Key), current);
  }
  return [];
}

/** Counts a batch as the store does: each chunk, dropping already-counted events and retrying. */
function count(table: Table, events: AnyEvent[]): void {
  for (let chunk of chunkEvents(events.map(countable))) {
    for (;;) {
      if (chunk.length === 0) break;
      const failed = apply(table, transactionOf(TABLE, chunk, NOW_S));
      if (failed.length === 0) break;
      chunk = chunk.filter((e) => !failed.includes(e.eventId));
    }
  }
}

const totals = (table: Table, day: string) => {
  const item = table.get(keyOf(dayTotalsKey(day))) ?? {};
  return Object.fromEntries(
    Object.entries(item)
      .filter(([k]) => k !== 'pk' && k !== 'sk')
      .map(([k, v]) => [k, Number(v.N)]),
  );
};
const usersOf = (table: Table, day: string) =>
  [...table.keys()].filter((k) => k.startsWith(`DAY#${day}|USER#`)).map((k) => k.split('|USER#')[1]);

describe('dayOf', () => {
  it('is the UTC day of occurredAt, offsets applied', () => {
    expect(dayOf({ occurredAt: '2026-11-23T09:15:00.000Z' })).toBe('2026-11-23');
    expect(dayOf({ occurredAt: '2026-11-23T00:30:00+01:00' })).toBe('2026-11-22');
    expect(dayOf({ occurredAt: '2026-11-22T23:30:00.123456-02:00' })).toBe('2026-11-23');
    expect(dayOf({ occurredAt: '2026-12-31T23:59:60Z' })).toBe('2026-12-31');
  });

  it('names a malformed occurredAt', () => {
    expect(() => dayOf({ occurredAt: '2026-11-23T09:15:00' })).toThrow(
      'occurredAt "2026-11-23T09:15:00" is not an RFC 3339 date-time with an offset',
    );
  });
});

describe('transactions of a batch', () => {
  it('puts each marker on the condition that it is new, with day, type and a TTL past the longest redelivery (36 days)', () => {
    const e = event('order_created', '2026-11-23T09:15:00Z');
    const tx = transactionOf(TABLE, [countable(e)], NOW_S);
    expect(tx.items[0]).toEqual({
      Put: {
        TableName: TABLE,
        Item: {
          ...eventMarkerKey(e.eventId),
          day: { S: '2026-11-23' },
          eventType: { S: 'order_created' },
          expiresAt: { N: String(NOW_S + 36 * 86_400) },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    // The dead-letter topics' 28 days, Kafka's default segment.ms (7 days) and a day.
    expect(EVENT_MARKER_TTL_SECONDS).toBe(36 * 86_400);
    expect(tx.eventIds).toEqual([e.eventId, undefined]);
  });

  it('counts per day and type, on two days, with one update per day', () => {
    const table: Table = new Map();
    const batch = [
      event('order_created', '2026-11-23T09:00:00Z'),
      event('order_created', '2026-11-23T10:00:00Z'),
      event('user_registered', '2026-11-23T11:00:00Z'),
      event('order_created', '2026-11-24T00:10:00+01:00'), // the 23rd in UTC
      event('order_cancelled', '2026-11-24T09:00:00Z'),
    ];
    const tx = transactionOf(TABLE, chunkEvents(batch.map(countable))[0] ?? [], NOW_S);
    expect(tx.items.filter((i) => 'Update' in i)).toHaveLength(2);
    count(table, batch);
    expect(totals(table, '2026-11-23')).toEqual({ count_order_created: 3, count_user_registered: 1 });
    expect(totals(table, '2026-11-24')).toEqual({ count_order_cancelled: 1 });
  });

  it('counts an eventId twice in one batch once, and a batch delivered again not at all', () => {
    const table: Table = new Map();
    const a = event('order_created', '2026-11-23T09:00:00Z');
    const b = event('order_created', '2026-11-23T09:00:00Z');
    count(table, [a, b, { ...a }]);
    expect(totals(table, '2026-11-23')).toEqual({ count_order_created: 2 });
    count(table, [a, b, event('order_created', '2026-11-23T09:00:00Z')]);
    expect(totals(table, '2026-11-23')).toEqual({ count_order_created: 3 });
  });

  it('nets refunds off processed payments, per currency, in minor units', () => {
    const table: Table = new Map();
    count(table, [
      event('payment_processed', '2026-11-23T09:00:00Z', { amount: 4248, currency: 'EUR' }),
      event('payment_processed', '2026-11-23T09:00:00Z', { amount: 1000, currency: 'USD' }),
      event('payment_refunded', '2026-11-23T09:00:00Z', { amount: 1999, currency: 'EUR' }),
      event('payment_failed', '2026-11-23T09:00:00Z', { amount: 500, currency: 'USD' }),
    ]);
    count(table, [event('payment_refunded', '2026-11-23T12:00:00Z', { amount: 1000, currency: 'USD' })]);
    expect(totals(table, '2026-11-23')).toEqual({
      count_payment_processed: 2,
      count_payment_refunded: 2,
      count_payment_failed: 1,
      revenue_EUR: 4248 - 1999,
      revenue_USD: 0,
    });
  });

  it('adds an amount that nets to zero within a transaction, so the currency is listed as with any split', () => {
    const tx = transactionOf(
      TABLE,
      [
        countable(event('payment_processed', '2026-11-23T09:00:00Z', { amount: 700, currency: 'EUR' })),
        countable(event('payment_refunded', '2026-11-23T09:00:00Z', { amount: 700, currency: 'EUR' })),
      ],
      NOW_S,
    );
    const update = tx.items.find((i) => 'Update' in i);
    expect(update && 'Update' in update && Object.values(update.Update.ExpressionAttributeNames)).toEqual([
      'count_payment_processed',
      'revenue_EUR',
      'count_payment_refunded',
    ]);
  });

  it('keeps one user marker per day and user: active users are distinct', () => {
    const table: Table = new Map();
    const batch = [
      event('user_login', '2026-11-23T09:00:00Z', { userId: 'u-1' }),
      event('user_login', '2026-11-23T10:00:00Z', { userId: 'u-1' }),
      event('user_login', '2026-11-23T11:00:00Z', { userId: 'u-2' }),
      event('user_login', '2026-11-24T09:00:00Z', { userId: 'u-1' }),
    ];
    const tx = transactionOf(TABLE, batch.map(countable), NOW_S);
    expect(tx.items.filter((i) => 'Put' in i && !i.Put.ConditionExpression)).toEqual([
      { Put: { TableName: TABLE, Item: activeUserKey('2026-11-23', 'u-1') } },
      { Put: { TableName: TABLE, Item: activeUserKey('2026-11-23', 'u-2') } },
      { Put: { TableName: TABLE, Item: activeUserKey('2026-11-24', 'u-1') } },
    ]);
    count(table, batch);
    count(table, [event('user_login', '2026-11-23T12:00:00Z', { userId: 'u-2' })]);
    expect(usersOf(table, '2026-11-23').sort()).toEqual(['u-1', 'u-2']);
    expect(usersOf(table, '2026-11-24')).toEqual(['u-1']);
    expect(totals(table, '2026-11-23')).toEqual({ count_user_login: 4 });
  });

  it('cuts a batch into transactions of at most 100 actions', () => {
    // 99 events on one day: 99 markers + 1 update = 100 actions, one transaction.
    const oneDay = Array.from({ length: 99 }, () =>
      countable(event('order_created', '2026-11-23T09:00:00Z')),
    );
    expect(chunkEvents(oneDay).map((c) => c.length)).toEqual([99]);
    // The 100th needs a 101st action.
    const more = [...oneDay, countable(event('order_created', '2026-11-23T09:00:00Z'))];
    expect(chunkEvents(more).map((c) => c.length)).toEqual([99, 1]);
    // Logins of distinct users take two actions each (marker and user), plus the day's update.
    const logins = Array.from({ length: 60 }, (_, i) =>
      countable(event('user_login', '2026-11-23T09:00:00Z', { userId: `u-${i}` })),
    );
    const chunks = chunkEvents(logins);
    expect(chunks.map((c) => c.length)).toEqual([49, 11]);
    for (const c of chunks) expect(transactionOf(TABLE, c, NOW_S).items.length).toBeLessThanOrEqual(100);
    // And every one of 250 mixed events is counted once across the transactions.
    const table: Table = new Map();
    const mixed = Array.from({ length: 250 }, (_, i) =>
      i % 2
        ? event('user_login', `2026-11-${String(20 + (i % 3)).padStart(2, '0')}T09:00:00Z`, {
            userId: `u-${i % 7}`,
          })
        : event('order_created', `2026-11-${String(20 + (i % 3)).padStart(2, '0')}T09:00:00Z`),
    );
    count(table, mixed);
    const sum = ['2026-11-20', '2026-11-21', '2026-11-22']
      .map((d) => totals(table, d))
      .reduce((n, t) => n + (t.count_user_login ?? 0) + (t.count_order_created ?? 0), 0);
    expect(sum).toBe(250);
  });

  it('knows what each event type contributes', () => {
    expect(
      contributionOf(event('payment_refunded', '2026-11-23T09:00:00Z', { amount: 5, currency: 'JPY' })),
    ).toEqual({
      day: '2026-11-23',
      eventType: 'payment_refunded',
      revenue: { currency: 'JPY', amount: -5 },
    });
  });
});
