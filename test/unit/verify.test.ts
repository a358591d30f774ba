/**
 * The post-deploy check's logic against a fake API: events sent, counted after a few polls, what is
 * missing when the analytics never catch up, a refused event, and SigV4 headers on every request.
 */
import { describe, expect, it } from 'vitest';
import { type DailyAnalytics, dailyResponse } from '../../core/analytics-query';
import { type Fetch, missing, signedFetch, verificationEvents, verify } from '../../scripts/verify';

/**
 * A fake API: POST /events/{stream} takes events (202); GET /analytics/daily answers the day's
 * aggregates, counting the events received only from the `countAfter`-th read on (a consumer that
 * lags), plus `background` counts of other traffic.
 */
function fakeApi(options: { countAfter: number; countTypes?: readonly string[]; refuse?: string }) {
  const received: Record<string, unknown>[] = [];
  const requests: { method: string; url: string; headers: Record<string, string> }[] = [];
  let reads = 0;
  const fetch: Fetch = async (url, init) => {
    requests.push({ method: init.method, url, headers: init.headers });
    const u = new URL(url);
    if (init.method === 'POST') {
      if (options.refuse && u.pathname.endsWith(options.refuse))
        return { status: 400, text: async () => '{"error":"ValidationError"}' };
      received.push(JSON.parse(init.body as string));
      return { status: 202, text: async () => '{}' };
    }
    reads++;
    const date = u.searchParams.get('from') as string;
    const counted = reads > options.countAfter ? received : [];
    const totals: Record<string, number> = { count_user_login: 5 };
    for (const e of counted) {
      const type = e.eventType as string;
      if (options.countTypes && !options.countTypes.includes(type)) continue;
      totals[`count_${type}`] = (totals[`count_${type}`] ?? 0) + 1;
    }
    const users = 3 + counted.filter((e) => e.eventType === 'user_login').length;
    const body = dailyResponse([date], new Map([[date, totals]]), new Map([[date, users]]));
    return { status: 200, text: async () => JSON.stringify(body) };
  };
  return { fetch, received, requests, reads: () => reads };
}

const clock = () => {
  let t = Date.parse('2026-03-05T10:00:00Z');
  return {
    now: () => new Date(t),
    sleep: async (ms: number) => {
      t += ms;
    },
  };
};

describe('npm run verify', () => {
  it('sends one event per stream with one fresh correlation id, and polls until they are counted', async () => {
    const api = fakeApi({ countAfter: 3 });
    const result = await verify({
      apiUrl: 'https://api.example/v1/',
      fetch: api.fetch,
      timeoutMs: 60_000,
      pollMs: 1000,
      ...clock(),
    });
    expect(result).toEqual({ ok: true, correlationId: expect.any(String), missing: [] });
    expect(api.received.map((e) => e.eventType)).toEqual([
      'user_login',
      'order_created',
      'payment_processed',
    ]);
    expect(new Set(api.received.map((e) => e.correlationId))).toEqual(new Set([result.correlationId]));
    expect(new Set(api.received.map((e) => e.eventId)).size).toBe(3);
    expect(api.received.every((e) => (e.occurredAt as string).startsWith('2026-03-05'))).toBe(true);
    const posts = api.requests.filter((r) => r.method === 'POST').map((r) => new URL(r.url).pathname);
    expect(posts).toEqual(['/v1/events/user', '/v1/events/order', '/v1/events/payment']);
    const gets = api.requests.filter((r) => r.method === 'GET').map((r) => new URL(r.url));
    expect(gets[0]?.pathname).toBe('/v1/analytics/daily');
    expect(gets[0]?.searchParams.get('from')).toBe('2026-03-05');
    // One baseline read, then reads until the fourth counts them.
    expect(api.reads()).toBe(4);
  });

  it('reports what is not counted when the timeout passes', async () => {
    const api = fakeApi({ countAfter: 0, countTypes: ['user_login'] });
    const result = await verify({
      apiUrl: 'https://api.example/v1/',
      fetch: api.fetch,
      timeoutMs: 10_000,
      pollMs: 2000,
      ...clock(),
    });
    expect(result.ok).toBe(false);
    expect(result.missing).toEqual([
      'order_created: 0 of 1 counted on 2026-03-05',
      'payment_processed: 0 of 1 counted on 2026-03-05',
    ]);
    expect(api.reads()).toBe(1 + 6);
  });

  it('stops at an event the API refuses, saying which and why', async () => {
    const api = fakeApi({ countAfter: 0, refuse: '/events/order' });
    const result = await verify({
      apiUrl: 'http://127.0.0.1:3000/',
      fetch: api.fetch,
      timeoutMs: 1000,
      ...clock(),
    });
    expect(result.ok).toBe(false);
    expect(result.missing).toEqual([
      'POST /events/order (order_created) answered 400: {"error":"ValidationError"}',
    ]);
  });
});

describe('missing', () => {
  const day = (counts: Record<string, number>, activeUsers: number): DailyAnalytics => ({
    date: '2026-03-05',
    counts,
    revenue: {},
    activeUsers,
  });
  const expected = { date: '2026-03-05', counts: { user_login: 1, order_created: 2 }, activeUsers: 1 };

  it('is empty when each count grew by at least what was sent (other traffic may add more)', () => {
    expect(missing(expected, day({ user_login: 4 }, 2), day({ user_login: 6, order_created: 2 }, 3))).toEqual(
      [],
    );
  });

  it('names each type and the active users short of what was sent', () => {
    expect(missing(expected, day({ user_login: 4 }, 2), day({ user_login: 4, order_created: 1 }, 2))).toEqual(
      [
        'user_login: 0 of 1 counted on 2026-03-05',
        'order_created: 1 of 2 counted on 2026-03-05',
        'active users: 0 of 1 counted on 2026-03-05',
      ],
    );
  });
});

describe('verificationEvents', () => {
  it('gives the events fresh user, order and payment ids of the check', () => {
    const events = verificationEvents(
      '0f1e2d3c-0000-4000-8000-000000000000',
      new Date('2026-03-05T23:59:59Z'),
    );
    expect(events.map((e) => (e.event.data as { userId: string }).userId)).toEqual([
      'verify-u-0f1e2d3c',
      'verify-u-0f1e2d3c',
      'verify-u-0f1e2d3c',
    ]);
    expect((events[2]?.event.data as { paymentId?: string } | undefined)?.paymentId).toBe(
      'verify-p-0f1e2d3c',
    );
  });
});

describe('signedFetch', () => {
  it('signs each request with SigV4 for execute-api in the region, with the shell credentials', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-real-secret-key-for-this-test',
      AWS_SESSION_TOKEN: 'session-token',
    });
    try {
      const seen: Record<string, string>[] = [];
      const base: Fetch = async (_url, init) => {
        seen.push(init.headers);
        return { status: 200, text: async () => '' };
      };
      const signed = signedFetch('eu-west-1', base);
      await signed('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/events/user', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const headers = seen[0] as Record<string, string>;
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(headers['x-amz-security-token']).toBe('session-token');
      expect(headers['content-type']).toBe('application/json');
      expect(headers.host).toBeUndefined();
    } finally {
      process.env = saved;
    }
  });
});
