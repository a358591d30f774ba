/**
 * The analytics API function with a fake reader: the answer for a valid range, the 400 naming the
 * query parameter for every kind of bad range, 405 for other methods, and a read failure that
 * reveals nothing.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { ANALYTICS_ROUTE, dailyResponse } from '../../core/analytics-query';
import type { AnalyticsReader } from '../../lambdas/analytics/reader';
import { apiRequest } from '../fixtures/api-gateway';

// Before the module is imported: its `handler` is made at import.
vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');

const { createHandler, handleAnalyticsRequest } = await import('../../lambdas/analytics/api');

function request(query: Record<string, string | string[]> | null, method = 'GET'): APIGatewayProxyEvent {
  const base = apiRequest({ method, headers: {} });
  const multi = query
    ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]))
    : null;
  return {
    ...base,
    resource: ANALYTICS_ROUTE,
    path: ANALYTICS_ROUTE,
    pathParameters: null,
    queryStringParameters: multi
      ? Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v.at(-1) as string]))
      : null,
    multiValueQueryStringParameters: multi,
  };
}

/** A reader that answers from fixed totals and records the days it was asked for. */
function fakeReader() {
  const asked: (readonly string[])[] = [];
  const reader: AnalyticsReader = {
    daily: async (days) => {
      asked.push(days);
      return dailyResponse(
        days,
        new Map([['2026-03-06', { count_user_login: 2, revenue_EUR: 990 }]]),
        new Map([['2026-03-06', 1]]),
      );
    },
  };
  return { reader, asked };
}

describe('GET /analytics/daily', () => {
  it('answers 200 with one entry per day of the range', async () => {
    const { reader, asked } = fakeReader();
    const response = await handleAnalyticsRequest(
      request({ from: '2026-03-05', to: '2026-03-06' }),
      () => reader,
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({
      days: [
        { date: '2026-03-05', counts: {}, revenue: {}, activeUsers: 0 },
        { date: '2026-03-06', counts: { user_login: 2 }, revenue: { EUR: 990 }, activeUsers: 1 },
      ],
    });
    expect(asked).toEqual([['2026-03-05', '2026-03-06']]);
  });

  it.each([
    [null, 'from', /from is required/],
    [{ from: '2026-03-05' }, 'to', /to is required/],
    [{ from: 'yesterday', to: '2026-03-05' }, 'from', /"yesterday" is not a date/],
    [{ from: '2026-02-01', to: '2026-02-30' }, 'to', /"2026-02-30" is not a calendar date/],
    [{ from: '2026-03-06', to: '2026-03-05' }, 'from', /is after/],
    [{ from: '2024-01-01', to: '2025-01-01' }, 'to', /367 days; at most 366/],
    [{ from: ['2026-03-01', '2026-03-02'], to: '2026-03-05' }, 'from', /from is given 2 times/],
  ])('answers 400 naming the parameter for %j', async (query, path, message) => {
    const { reader, asked } = fakeReader();
    const response = await handleAnalyticsRequest(request(query), () => reader);
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ error: 'ValidationError', requestId: expect.any(String) });
    expect(body.message).toMatch(message);
    expect(body.issues).toEqual([{ location: 'query', path, message: expect.any(String) }]);
    expect(asked).toEqual([]);
  });

  it('answers 405 with Allow: GET to other methods', async () => {
    const { reader } = fakeReader();
    const response = await handleAnalyticsRequest(
      request({ from: '2026-03-05', to: '2026-03-05' }, 'POST'),
      () => reader,
    );
    expect(response.statusCode).toBe(405);
    expect(response.headers?.allow).toBe('GET');
    expect(JSON.parse(response.body)).toMatchObject({ error: 'MethodNotAllowed' });
  });

  it('answers 500 without internals when the table cannot be read, and reports the error', async () => {
    const failures: unknown[] = [];
    const reader: AnalyticsReader = {
      daily: async () => {
        throw new Error('ResourceNotFoundException: Requested resource not found: secret-table');
      },
    };
    const response = await handleAnalyticsRequest(
      request({ from: '2026-03-05', to: '2026-03-05' }),
      () => reader,
      (e) => failures.push(e),
    );
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/secret-table/);
    expect(failures).toHaveLength(1);
  });

  it('runs as a Lambda handler, and without ANALYTICS_TABLE fails the request (not the import)', async () => {
    const context = {
      functionName: 'analytics-api',
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => 10_000,
    } as unknown as Context;
    const { reader } = fakeReader();
    const withReader = createHandler({ reader });
    const ok = await withReader(request({ from: '2026-03-06', to: '2026-03-06' }), context);
    expect(ok.statusCode).toBe(200);
    vi.stubEnv('ANALYTICS_TABLE', '');
    const withoutTable = createHandler();
    const failed = await withoutTable(request({ from: '2026-03-06', to: '2026-03-06' }), context);
    expect(failed.statusCode).toBe(500);
  });
});
