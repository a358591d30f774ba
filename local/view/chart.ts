/**
 * The live view's analytics chart: the answer of `GET /analytics/daily` (docs/analytics.md) drawn as
 * inline SVG, with nothing loaded from elsewhere. Daily event counts as bars stacked per event type,
 * revenue per currency (net of refunds, so a bar may go below zero) and active users per day.
 *
 * Pure and DOM-free, so a unit test runs it (test/unit/view-chart.test.ts): it returns a tree of SVG
 * elements that the page (index.html) turns into DOM nodes, setting text only with `textContent`.
 * routes.ts serves this file to the page as JavaScript (`GET /chart.js`, types stripped by esbuild).
 */

/** One day of `GET /analytics/daily`. */
export interface DailyAnalytics {
  readonly date: string;
  readonly counts: Readonly<Record<string, number>>;
  /** Minor units per currency, net of refunds. */
  readonly revenue: Readonly<Record<string, number>>;
  readonly activeUsers: number;
}

/** An SVG element: its tag, attributes and children (elements or text). */
export interface SvgNode {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string | number>>;
  readonly children: readonly (SvgNode | string)[];
}

const el = (
  tag: string,
  attrs: Record<string, string | number | undefined>,
  ...children: (SvgNode | string)[]
): SvgNode => ({
  tag,
  attrs: Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number
  >,
  children,
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The `n` UTC days ending with `today`'s UTC day, oldest first: the range the view asks for. */
export function lastDays(today: Date, n: number): { from: string; to: string } {
  const day = (offset: number) => new Date(today.getTime() - offset * 86_400_000).toISOString().slice(0, 10);
  return { from: day(n - 1), to: day(0) };
}

function numbers(value: unknown, where: string): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${where} is not an object`);
  for (const [key, n] of Object.entries(value))
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${where}.${key} is not a number`);
  return value as Record<string, number>;
}

/** The days of a `GET /analytics/daily` answer, or an error naming what is not as the contract says. */
export function parseDaily(body: unknown): DailyAnalytics[] {
  const days = (body as { days?: unknown } | null)?.days;
  if (!Array.isArray(days)) throw new Error('the answer has no "days" list');
  return days.map((d: unknown, i) => {
    const day = d as Record<string, unknown> | null;
    if (typeof day?.date !== 'string' || !DATE.test(day.date))
      throw new Error(`days[${i}].date is not a YYYY-MM-DD date`);
    if (typeof day.activeUsers !== 'number' || !Number.isInteger(day.activeUsers) || day.activeUsers < 0)
      throw new Error(`days[${i}].activeUsers is not a count`);
    return {
      date: day.date,
      counts: numbers(day.counts, `days[${i}].counts`),
      revenue: numbers(day.revenue, `days[${i}].revenue`),
      activeUsers: day.activeUsers,
    };
  });
}

/** Minor units as an amount of the currency, with its number of decimals (ISO 4217, through Intl). */
export function formatMinor(minor: number, currency: string): string {
  let digits = 2;
  try {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
  } catch {
    // Not a currency Intl knows: two decimals.
  }
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}

/** Colours of the event types, in the order of their sorted names. */
const PALETTE = [
  '#2f5bd3',
  '#e07b39',
  '#3a9b5c',
  '#b42318',
  '#7a5af8',
  '#0e9384',
  '#c11574',
  '#667085',
  '#ca8504',
  '#155eef',
  '#875bf7',
  '#4e5ba6',
];
const colourOf = (i: number) => PALETTE[i % PALETTE.length] as string;

const WIDTH = 720;
const LEFT = 64;
const RIGHT = 8;
const COUNTS_HEIGHT = 160;
const MONEY_HEIGHT = 70;
const USERS_HEIGHT = 50;
const GAP = 26;
const LABEL = { 'font-size': 11, fill: '#667085' };

/** A row of bars, one slot per day, values from `min` (≤ 0) to `max` (≥ 0), its zero line drawn. */
function axis(top: number, height: number, title: string, max: string, min: string | undefined): SvgNode[] {
  return [
    el('text', { x: 0, y: top + 10, 'font-size': 12, 'font-weight': 600, fill: '#1d2330' }, title),
    el('text', { x: LEFT - 6, y: top + 10, 'text-anchor': 'end', ...LABEL }, max),
    ...(min === undefined
      ? []
      : [el('text', { x: LEFT - 6, y: top + height, 'text-anchor': 'end', ...LABEL }, min)]),
    el('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: top, y2: top, stroke: '#e4e7ec' }),
  ];
}

/**
 * The chart of `days` (oldest first): one SVG element. Every bar carries what it shows in `data-*`
 * attributes and a `<title>` (its tooltip): `data-date` with `data-type`/`data-count` (events),
 * `data-currency`/`data-minor` (revenue) or `data-active-users`.
 */
export function dailyChart(days: readonly DailyAnalytics[]): SvgNode {
  const types = [...new Set(days.flatMap((d) => Object.keys(d.counts)))].sort();
  const currencies = [...new Set(days.flatMap((d) => Object.keys(d.revenue)))].sort();
  const slot = (WIDTH - LEFT - RIGHT) / Math.max(days.length, 1);
  const barWidth = Math.max(1, Math.round(slot * 0.7 * 10) / 10);
  const xOf = (i: number) => Math.round((LEFT + i * slot + (slot - barWidth) / 2) * 10) / 10;
  const round = (n: number) => Math.round(n * 10) / 10;
  const children: SvgNode[] = [];

  // Events per day, stacked per type.
  let top = 4;
  const totals = days.map((d) => Object.values(d.counts).reduce((a, b) => a + b, 0));
  const maxCount = Math.max(1, ...totals);
  children.push(...axis(top, COUNTS_HEIGHT, 'events', String(maxCount), '0'));
  const base = top + COUNTS_HEIGHT;
  children.push(el('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: base, y2: base, stroke: '#98a2b3' }));
  days.forEach((d, i) => {
    let y = base;
    types.forEach((type, t) => {
      const count = d.counts[type] ?? 0;
      if (count <= 0) return;
      const h = (count / maxCount) * COUNTS_HEIGHT;
      y -= h;
      children.push(
        el(
          'rect',
          {
            class: 'bar count',
            x: xOf(i),
            y: round(y),
            width: barWidth,
            height: round(h),
            fill: colourOf(t),
            'data-date': d.date,
            'data-type': type,
            'data-count': count,
          },
          el('title', {}, `${d.date} ${type}: ${count}`),
        ),
      );
    });
    children.push(
      el(
        'text',
        { x: round(LEFT + i * slot + slot / 2), y: base + 13, 'text-anchor': 'middle', ...LABEL },
        d.date.slice(5),
      ),
    );
  });
  top = base + GAP;

  // Revenue per currency, one row each with its own scale; refunds can make a day negative.
  for (const currency of currencies) {
    const values = days.map((d) => d.revenue[currency] ?? 0);
    const max = Math.max(0, ...values);
    const min = Math.min(0, ...values);
    const span = max - min || 1;
    const zero = top + (max / span) * MONEY_HEIGHT;
    children.push(
      ...axis(
        top,
        MONEY_HEIGHT,
        `revenue ${currency}`,
        formatMinor(max, currency),
        min < 0 ? formatMinor(min, currency) : undefined,
      ),
      el('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: round(zero), y2: round(zero), stroke: '#98a2b3' }),
    );
    days.forEach((d, i) => {
      const minor = d.revenue[currency];
      if (minor === undefined || minor === 0) return;
      const h = (Math.abs(minor) / span) * MONEY_HEIGHT;
      children.push(
        el(
          'rect',
          {
            class: 'bar revenue',
            x: xOf(i),
            y: round(minor > 0 ? zero - h : zero),
            width: barWidth,
            height: round(h),
            fill: minor > 0 ? '#067647' : '#b42318',
            'data-date': d.date,
            'data-currency': currency,
            'data-minor': minor,
          },
          el('title', {}, `${d.date} revenue: ${formatMinor(minor, currency)}`),
        ),
      );
    });
    top += MONEY_HEIGHT + GAP;
  }

  // Distinct users who logged in, per day.
  const maxUsers = Math.max(1, ...days.map((d) => d.activeUsers));
  children.push(...axis(top, USERS_HEIGHT, 'active users', String(maxUsers), undefined));
  const usersBase = top + USERS_HEIGHT;
  children.push(el('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: usersBase, y2: usersBase, stroke: '#98a2b3' }));
  days.forEach((d, i) => {
    if (d.activeUsers === 0) return;
    const h = (d.activeUsers / maxUsers) * USERS_HEIGHT;
    children.push(
      el(
        'rect',
        {
          class: 'bar users',
          x: xOf(i),
          y: round(usersBase - h),
          width: barWidth,
          height: round(h),
          fill: '#7a5af8',
          'data-date': d.date,
          'data-active-users': d.activeUsers,
        },
        el('title', {}, `${d.date} active users: ${d.activeUsers}`),
      ),
    );
  });
  top = usersBase + GAP - 8;

  // Legend: each event type with its colour and its total over the days shown.
  let x = LEFT;
  types.forEach((type, t) => {
    const total = days.reduce((n, d) => n + (d.counts[type] ?? 0), 0);
    const label = `${type} ${total}`;
    if (x + 14 + label.length * 6.5 > WIDTH - RIGHT) {
      x = LEFT;
      top += 16;
    }
    children.push(
      el(
        'g',
        { class: 'legend', 'data-type': type, 'data-total': total },
        el('rect', { x, y: top, width: 10, height: 10, fill: colourOf(t) }),
        el('text', { x: x + 14, y: top + 9, 'font-size': 11, fill: '#1d2330' }, label),
      ),
    );
    x += 14 + label.length * 6.5 + 12;
  });
  const height = top + 16;
  const total = totals.reduce((a, b) => a + b, 0);
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${WIDTH} ${height}`,
      width: '100%',
      role: 'img',
      'aria-label': `${total} events from ${days[0]?.date ?? '-'} to ${days.at(-1)?.date ?? '-'}`,
      'font-family': 'system-ui, sans-serif',
    },
    el('title', {}, 'Daily events per type, revenue per currency and active users (UTC days)'),
    ...children,
  );
}
