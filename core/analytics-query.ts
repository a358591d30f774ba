/**
 * The read side of the daily analytics (pure; the DynamoDB calls are in lambdas/analytics/reader.ts):
 * the range a request asks for and the answer built from a day's items. The keys and attribute names
 * are the analytics consumer's (core/analytics.ts), in the single-table design of the analytics table:
 *
 * - day totals: pk `DAY#<YYYY-MM-DD>`, sk `TOTALS`, numbers `count_<eventType>` and
 *   `revenue_<CURRENCY>` (minor units, net of refunds);
 * - active users: pk `DAY#<YYYY-MM-DD>`, sk `USER#<userId>`, one item per user who logged in that day.
 */
import { COUNT_PREFIX, REVENUE_PREFIX } from './analytics';

/** The route of the analytics API (the deployed API Gateway resource and the local API). */
export const ANALYTICS_ROUTE = '/analytics/daily';

/** The largest range a request may ask for, in days (inclusive of both ends). */
export const MAX_RANGE_DAYS = 366;

export { dayPartitionKey, TOTALS_SORT_KEY, USER_SORT_KEY_PREFIX } from './analytics';

/** A problem with the requested range: the query parameter (`from`, `to`) and what is wrong. */
export interface RangeProblem {
  readonly path: 'from' | 'to';
  readonly message: string;
}

export type ParsedRange =
  | { readonly ok: true; readonly days: readonly string[] }
  | { readonly ok: false; readonly problem: RangeProblem };

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch milliseconds of a calendar date `YYYY-MM-DD` (UTC midnight), or a reason it is not one. */
function parseDate(value: string | undefined): number | string {
  if (value === undefined || value === '') return 'is required (YYYY-MM-DD)';
  const match = DATE.exec(value);
  if (!match) return `"${value}" is not a date in the form YYYY-MM-DD`;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // The date rolls over (2026-02-30 becomes March 2nd): a date that does not round-trip does not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return `"${value}" is not a calendar date`;
  }
  return date.getTime();
}

/** `YYYY-MM-DD` of a UTC midnight. */
const isoDay = (time: number): string => new Date(time).toISOString().slice(0, 10);

/**
 * The days from `from` to `to`, both included, in order; or the first problem found: a date missing,
 * malformed or impossible, `from` after `to`, or more than {@link MAX_RANGE_DAYS} days.
 */
export function parseRange(from: string | undefined, to: string | undefined): ParsedRange {
  const start = parseDate(from);
  if (typeof start === 'string') return { ok: false, problem: { path: 'from', message: `from ${start}` } };
  const end = parseDate(to);
  if (typeof end === 'string') return { ok: false, problem: { path: 'to', message: `to ${end}` } };
  if (start > end) {
    return { ok: false, problem: { path: 'from', message: `from ${from} is after to ${to}` } };
  }
  const count = (end - start) / DAY_MS + 1;
  if (count > MAX_RANGE_DAYS) {
    return {
      ok: false,
      problem: {
        path: 'to',
        message: `the range ${from} to ${to} is ${count} days; at most ${MAX_RANGE_DAYS} days can be asked for`,
      },
    };
  }
  return { ok: true, days: Array.from({ length: count }, (_, i) => isoDay(start + i * DAY_MS)) };
}

/** One day of the answer. */
export interface DailyAnalytics {
  readonly date: string;
  /** Events counted, by event type. */
  readonly counts: Record<string, number>;
  /** Revenue by currency, in minor units, net of refunds. */
  readonly revenue: Record<string, number>;
  /** Distinct users who logged in that day. */
  readonly activeUsers: number;
}

export interface DailyResponse {
  readonly days: readonly DailyAnalytics[];
}

/**
 * The answer for `days`: one entry per day, in order; `totalsByDay` holds the numeric attributes of
 * each day's totals item (other attributes are ignored), `activeUsersByDay` the number of its user
 * items. A day missing from either has empty objects and 0.
 */
export function dailyResponse(
  days: readonly string[],
  totalsByDay: ReadonlyMap<string, Readonly<Record<string, number>>>,
  activeUsersByDay: ReadonlyMap<string, number>,
): DailyResponse {
  return {
    days: days.map((date) => {
      const counts: Record<string, number> = {};
      const revenue: Record<string, number> = {};
      for (const [name, value] of Object.entries(totalsByDay.get(date) ?? {})) {
        if (name.startsWith(COUNT_PREFIX) && name.length > COUNT_PREFIX.length)
          counts[name.slice(COUNT_PREFIX.length)] = value;
        else if (name.startsWith(REVENUE_PREFIX) && name.length > REVENUE_PREFIX.length)
          revenue[name.slice(REVENUE_PREFIX.length)] = value;
      }
      return { date, counts, revenue, activeUsers: activeUsersByDay.get(date) ?? 0 };
    }),
  };
}

/** The analytics API's counts (dimension service). */
export const ANALYTICS_API_METRICS = {
  served: 'AnalyticsRequestsServed',
  rejected: 'AnalyticsRequestsRejected',
} as const;
