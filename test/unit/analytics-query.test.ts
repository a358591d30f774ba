import { describe, expect, it } from 'vitest';
import {
  dailyResponse,
  dayPartitionKey,
  MAX_RANGE_DAYS,
  parseRange,
  TOTALS_SORT_KEY,
  USER_SORT_KEY_PREFIX,
} from '../../core/analytics-query';

describe('parseRange', () => {
  it('lists every day from `from` to `to`, both included, across month, year and leap-day boundaries', () => {
    expect(parseRange('2026-03-05', '2026-03-05')).toEqual({ ok: true, days: ['2026-03-05'] });
    expect(parseRange('2024-02-27', '2024-03-01')).toEqual({
      ok: true,
      days: ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01'],
    });
    expect(parseRange('2025-12-31', '2026-01-01')).toEqual({ ok: true, days: ['2025-12-31', '2026-01-01'] });
    // Any RFC 3339 full-date (the OpenAPI `date` format), years 0000–0099 included.
    expect(parseRange('0000-12-31', '0001-01-01')).toEqual({ ok: true, days: ['0000-12-31', '0001-01-01'] });
    expect(parseRange('9999-12-31', '9999-12-31')).toEqual({ ok: true, days: ['9999-12-31'] });
  });

  it('names the missing, malformed or impossible date', () => {
    expect(parseRange(undefined, '2026-01-01')).toEqual({
      ok: false,
      problem: { path: 'from', message: 'from is required (YYYY-MM-DD)' },
    });
    expect(parseRange('2026-01-01', '')).toEqual({
      ok: false,
      problem: { path: 'to', message: 'to is required (YYYY-MM-DD)' },
    });
    expect(parseRange('2026-1-01', '2026-01-02')).toEqual({
      ok: false,
      problem: { path: 'from', message: 'from "2026-1-01" is not a date in the form YYYY-MM-DD' },
    });
    expect(parseRange('2026-01-01', '2026-01-02T00:00:00Z')).toMatchObject({
      ok: false,
      problem: { path: 'to' },
    });
    expect(parseRange('2026-02-01', '2026-02-30')).toEqual({
      ok: false,
      problem: { path: 'to', message: 'to "2026-02-30" is not a calendar date' },
    });
    expect(parseRange('2025-02-29', '2025-03-01')).toMatchObject({ ok: false, problem: { path: 'from' } });
    expect(parseRange('2026-13-01', '2026-13-02')).toMatchObject({ ok: false, problem: { path: 'from' } });
  });

  it('refuses from after to', () => {
    expect(parseRange('2026-01-02', '2026-01-01')).toEqual({
      ok: false,
      problem: { path: 'from', message: 'from 2026-01-02 is after to 2026-01-01' },
    });
  });

  it(`accepts ${MAX_RANGE_DAYS} days and refuses one more`, () => {
    const full = parseRange('2024-01-01', '2024-12-31');
    expect(full.ok && full.days.length).toBe(366);
    expect(full.ok && full.days.at(-1)).toBe('2024-12-31');
    expect(parseRange('2024-01-01', '2025-01-01')).toEqual({
      ok: false,
      problem: {
        path: 'to',
        message: 'the range 2024-01-01 to 2025-01-01 is 367 days; at most 366 days can be asked for',
      },
    });
  });
});

describe('the keys read', () => {
  it('are those of the storage design', () => {
    expect(dayPartitionKey('2026-03-05')).toBe('DAY#2026-03-05');
    expect(TOTALS_SORT_KEY).toBe('TOTALS');
    expect(USER_SORT_KEY_PREFIX).toBe('USER#');
  });
});

describe('dailyResponse', () => {
  it('gives one entry per day in order, with empty objects and 0 for days without items', () => {
    const totals = new Map([
      [
        '2026-03-06',
        {
          count_user_login: 3,
          count_payment_processed: 2,
          count_payment_refunded: 1,
          revenue_EUR: 1500,
          revenue_USD: -200,
        },
      ],
    ]);
    const active = new Map([
      ['2026-03-06', 2],
      ['2026-03-07', 1],
    ]);
    expect(dailyResponse(['2026-03-05', '2026-03-06', '2026-03-07'], totals, active)).toEqual({
      days: [
        { date: '2026-03-05', counts: {}, revenue: {}, activeUsers: 0 },
        {
          date: '2026-03-06',
          counts: { user_login: 3, payment_processed: 2, payment_refunded: 1 },
          revenue: { EUR: 1500, USD: -200 },
          activeUsers: 2,
        },
        { date: '2026-03-07', counts: {}, revenue: {}, activeUsers: 1 },
      ],
    });
  });

  it('ignores attributes that are neither counts nor revenue', () => {
    const totals = new Map([['2026-03-05', { count_order_created: 1, expiresAt: 123, count_: 9 }]]);
    expect(dailyResponse(['2026-03-05'], totals, new Map()).days[0]).toEqual({
      date: '2026-03-05',
      counts: { order_created: 1 },
      revenue: {},
      activeUsers: 0,
    });
  });
});
