/**
 * The live view's analytics chart (local/view/chart.ts): the `GET /analytics/daily` answer → SVG,
 * checked on the element tree the page turns into DOM; and the module as the page gets it from
 * `GET /chart.js`. The browser test (test/integration/live-view.test.ts) checks it drawn on the page.
 */
import { describe, expect, it } from 'vitest';
import {
  type DailyAnalytics,
  dailyChart,
  formatMinor,
  lastDays,
  parseDaily,
  type SvgNode,
} from '../../local/view/chart';
import { liveView } from '../../local/view/routes';

/** Every element of the tree, depth first. */
function all(node: SvgNode): SvgNode[] {
  return [node, ...node.children.flatMap((c) => (typeof c === 'string' ? [] : all(c)))];
}
const bars = (node: SvgNode, kind: string) =>
  all(node).filter((n) => n.tag === 'rect' && n.attrs.class === `bar ${kind}`);
type Bar = { x: number; y: number; h: number; fill: string | number | undefined };
const text = (node: SvgNode): string =>
  node.children.map((c) => (typeof c === 'string' ? c : text(c))).join('');

const days: DailyAnalytics[] = [
  {
    date: '2025-03-01',
    counts: { user_login: 3, order_placed: 1 },
    revenue: { EUR: 2500, JPY: 1200 },
    activeUsers: 2,
  },
  { date: '2025-03-02', counts: {}, revenue: {}, activeUsers: 0 },
  {
    date: '2025-03-03',
    counts: { user_login: 6, payment_refunded: 2 },
    revenue: { EUR: -500 },
    activeUsers: 4,
  },
];

describe('analytics chart', () => {
  it('stacks one bar per event type and day, heights in proportion to the counts', () => {
    const chart = dailyChart(days);
    expect(chart.tag).toBe('svg');
    const counts = bars(chart, 'count');
    expect(counts.map((b) => [b.attrs['data-date'], b.attrs['data-type'], b.attrs['data-count']])).toEqual([
      ['2025-03-01', 'order_placed', 1],
      ['2025-03-01', 'user_login', 3],
      ['2025-03-03', 'payment_refunded', 2],
      ['2025-03-03', 'user_login', 6],
    ]);
    const [placed, login1, refunded, login3] = counts.map((b) => ({
      x: Number(b.attrs.x),
      y: Number(b.attrs.y),
      h: Number(b.attrs.height),
      fill: b.attrs.fill,
    })) as [Bar, Bar, Bar, Bar];
    // The tallest day (8 events) fills the plot; 3 logins are 3/8 of it.
    expect(refunded.h + login3.h).toBeCloseTo(160, 0);
    expect(login1.h / login3.h).toBeCloseTo(3 / 6, 1);
    // Stacked: the second segment sits on the first; days left to right; one colour per type.
    expect(login1.y + login1.h).toBeCloseTo(placed.y, 0);
    expect(login1.x).toBe(placed.x);
    expect(login3.x).toBeGreaterThan(login1.x);
    expect(login1.fill).toBe(login3.fill);
    expect(login1.fill).not.toBe(placed.fill);
    // Tooltips and the legend's totals.
    expect(counts.map((b) => text(b))).toContain('2025-03-03 user_login: 6');
    const legend = all(chart).filter((n) => n.attrs.class === 'legend');
    expect(legend.map((g) => [g.attrs['data-type'], g.attrs['data-total']])).toEqual([
      ['order_placed', 1],
      ['payment_refunded', 2],
      ['user_login', 9],
    ]);
    expect(chart.attrs['aria-label']).toBe('12 events from 2025-03-01 to 2025-03-03');
  });

  it('draws revenue per currency net of refunds, below the zero line when negative, and active users', () => {
    const chart = dailyChart(days);
    const revenue = bars(chart, 'revenue');
    expect(
      revenue.map((b) => [b.attrs['data-date'], b.attrs['data-currency'], b.attrs['data-minor']]),
    ).toEqual([
      ['2025-03-01', 'EUR', 2500],
      ['2025-03-03', 'EUR', -500],
      ['2025-03-01', 'JPY', 1200],
    ]);
    const [plus, minus] = revenue as [SvgNode, SvgNode];
    // One zero line: the positive bar ends on it, the negative one starts on it.
    expect(Number(plus.attrs.y) + Number(plus.attrs.height)).toBeCloseTo(Number(minus.attrs.y), 0);
    expect(Number(plus.attrs.height) / Number(minus.attrs.height)).toBeCloseTo(5, 1);
    expect(minus.attrs.fill).not.toBe(plus.attrs.fill);
    expect(text(minus)).toBe('2025-03-03 revenue: -5.00 EUR');
    expect(all(chart).some((n) => n.tag === 'text' && text(n) === 'revenue JPY')).toBe(true);
    expect(bars(chart, 'users').map((b) => [b.attrs['data-date'], b.attrs['data-active-users']])).toEqual([
      ['2025-03-01', 2],
      ['2025-03-03', 4],
    ]);
  });

  it('draws empty days as an empty chart', () => {
    const chart = dailyChart([{ date: '2025-03-02', counts: {}, revenue: {}, activeUsers: 0 }]);
    expect(all(chart).filter((n) => n.tag === 'rect')).toEqual([]);
    expect(chart.attrs['aria-label']).toBe('0 events from 2025-03-02 to 2025-03-02');
  });

  it('formats minor units with the currency’s decimals', () => {
    expect(formatMinor(123456, 'EUR')).toBe('1234.56 EUR');
    expect(formatMinor(1200, 'JPY')).toBe('1200 JPY');
    expect(formatMinor(-1, 'KWD')).toBe('-0.001 KWD');
  });

  it('asks for the last 14 UTC days', () => {
    expect(lastDays(new Date('2025-03-02T23:59:59Z'), 14)).toEqual({ from: '2025-02-17', to: '2025-03-02' });
    expect(lastDays(new Date('2025-03-03T00:00:00Z'), 1)).toEqual({ from: '2025-03-03', to: '2025-03-03' });
  });

  it('reads the API answer and names what does not follow the contract', () => {
    expect(parseDaily({ days })).toEqual(days);
    expect(() => parseDaily({})).toThrow('the answer has no "days" list');
    expect(() => parseDaily({ days: [{ ...days[0], date: '1.3.2025' }] })).toThrow(
      'days[0].date is not a YYYY-MM-DD date',
    );
    expect(() => parseDaily({ days: [days[1], { ...days[0], counts: { user_login: 'x' } }] })).toThrow(
      'days[1].counts.user_login is not a number',
    );
    expect(() => parseDaily({ days: [{ ...days[0], revenue: null }] })).toThrow(
      'days[0].revenue is not an object',
    );
    expect(() => parseDaily({ days: [{ ...days[0], activeUsers: -1 }] })).toThrow(
      'days[0].activeUsers is not a count',
    );
  });

  it('is served to the page as JavaScript that draws the same chart', async () => {
    const route = liveView({ clients: {} as never, brokers: '' }).pages['/chart.js'];
    if (!route) throw new Error('no /chart.js route');
    const served = await route({} as never);
    expect(served.contentType).toMatch(/^text\/javascript/);
    expect(served.body).not.toMatch(/\binterface\b|: SvgNode/);
    const module = (await import(
      `data:text/javascript;base64,${Buffer.from(served.body).toString('base64')}`
    )) as { dailyChart: typeof dailyChart };
    expect(module.dailyChart(days)).toEqual(dailyChart(days));
  });
});
