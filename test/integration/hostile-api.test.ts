/**
 * Hostile input against the local API (the producer handler behind the API Gateway proxy event):
 * every request of the corpus gets a 4xx with a JSON error naming the problem, none a 5xx, Kafka gets
 * nothing, and memory stays bounded.
 */
import type { Admin } from 'kafkajs';
import { describe, expect } from 'vitest';
import { streams } from '../../core/topology';
import { LocalRuntime } from '../../local/runtime';
import { hostileRequests } from '../fixtures/hostile-requests';
import { kafkaTest } from '../support/fixtures';
import { freePort } from '../support/runtime-process';

const it = kafkaTest('hostile');
let runtime: LocalRuntime;

it.beforeAll(async ({ brokers }) => {
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort() });
}, 120_000);
it.afterAll(async () => {
  await runtime?.stop();
});

async function sourceTopicEnds(admin: Admin): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of streams) {
    for (const o of await admin.fetchTopicOffsets(s.topic)) out[`${s.topic}-${o.partition}`] = o.high;
  }
  return out;
}

describe('hostile API input', () => {
  it('refuses every request of the corpus with a 4xx and a JSON error, writes nothing, and stays bounded in memory', async ({
    admin,
  }) => {
    const corpus = hostileRequests();
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    const before = await sourceTopicEnds(admin);
    const rssBefore = process.memoryUsage().rss;
    const outcomes: { why: string; status: number; problem?: string }[] = [];
    for (const request of corpus) {
      const response = await fetch(`${runtime.apiUrl}${request.path}`, {
        method: request.method ?? 'POST',
        headers: request.headers,
        body: request.body,
      });
      const text = await response.text();
      let body: { error?: string; message?: string; issues?: unknown[] } = {};
      try {
        body = JSON.parse(text);
      } catch {
        outcomes.push({
          why: request.why,
          status: response.status,
          problem: `not JSON: ${text.slice(0, 80)}`,
        });
        continue;
      }
      const problems: string[] = [];
      if (response.status < 400 || response.status >= 500) problems.push(`status ${response.status}`);
      if (request.status && response.status !== request.status)
        problems.push(`expected ${request.status}, got ${response.status}`);
      if (typeof body.message !== 'string' || body.message.length === 0) problems.push('no message');
      if (response.status === 400 && (!Array.isArray(body.issues) || body.issues.length === 0))
        problems.push('400 without issues');
      outcomes.push({ why: request.why, status: response.status, problem: problems.join('; ') || undefined });
    }
    const failures = outcomes.filter((o) => o.problem);
    expect(failures).toEqual([]);
    expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
    expect(await sourceTopicEnds(admin)).toEqual(before);
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(`${corpus.length} hostile requests: all refused; RSS grew ${grownMb.toFixed(0)} MB`);
    expect(grownMb).toBeLessThan(300);
  });
});
