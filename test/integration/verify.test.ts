/**
 * `npm run verify` against the local API of `npm start`: the events it sends go through the producer,
 * the broker and the analytics consumer into the local DynamoDB endpoint, and the check sees them
 * counted through GET /analytics/daily; the same run's second check counts its own events again.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime';
import { verify } from '../../scripts/verify';
import { freePort } from '../support/runtime-process';

const brokers = inject('kafkaBrokers');
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort() });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

describe('npm run verify against the local API', () => {
  it('sends events and sees each counted by the analytics API', async () => {
    const lines: string[] = [];
    const run = () =>
      verify({
        apiUrl: `${runtime.apiUrl}/`,
        fetch: (url, init) => fetch(url, init),
        timeoutMs: 60_000,
        pollMs: 500,
        log: (line) => lines.push(line),
      });
    const first = await run();
    expect(first).toEqual({ ok: true, correlationId: expect.any(String), missing: [] });
    const second = await run();
    expect(second.ok).toBe(true);
    expect(second.correlationId).not.toBe(first.correlationId);
    expect(lines.filter((l) => l.startsWith('sent '))).toHaveLength(6);
  });
});
