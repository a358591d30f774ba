/**
 * `npm start` as a process: clear one-line errors for what a person can fix, and nothing lost when
 * it is killed mid-stream and started again.
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { decode } from '../../core/glue-wire-format';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent } from '../../schemas/index';
import { kafkaTest } from '../support/fixtures';
import { readUntil, unique } from '../support/kafka-clients';
import { freePort, startRuntimeProcess } from '../support/runtime-process';

const it = kafkaTest('runtime-process');

describe('npm start', () => {
  it('refuses a taken API port with one clear line and exit status 1', async ({ brokers }) => {
    const taken = createServer();
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const runtime = startRuntimeProcess({ KAFKA_BROKERS: brokers, API_PORT: String(port) });
      expect(await runtime.exited).toBe(1);
      expect(runtime.output.join('\n')).toContain(`cannot start: port ${port} (local API) is already in use`);
    } finally {
      taken.close();
    }
  });

  it('refuses unreachable KAFKA_BROKERS with one clear line and exit status 1', async () => {
    const runtime = startRuntimeProcess({
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      API_PORT: String(await freePort()),
    });
    expect(await runtime.exited).toBe(1);
    expect(runtime.output.join('\n')).toMatch(
      /cannot start: KAFKA_BROKERS=127\.0\.0\.1:\d+ is not reachable/,
    );
  });

  it('loses nothing accepted when killed with SIGKILL mid-stream and started again', async ({
    brokers,
    kafka,
  }) => {
    const apiPort = await freePort();
    const env = { KAFKA_BROKERS: brokers, API_PORT: String(apiPort) };
    const run = unique('restart');
    const accepted: string[] = [];
    const post = async (i: number) => {
      const event = {
        ...(eventExamples.user_registered[0] as AnyEvent),
        eventId: crypto.randomUUID(),
        correlationId: `${run}-${i}`,
      };
      try {
        const response = await fetch(`http://127.0.0.1:${apiPort}/events/user`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
        });
        if (response.status === 202) accepted.push(event.eventId);
      } catch {
        // the runtime is down: not accepted
      }
    };

    let runtime = startRuntimeProcess(env);
    await runtime.ready;
    let i = 0;
    for (; i < 60; i++) await post(i);
    runtime.child.kill('SIGKILL');
    await runtime.exited;
    for (; i < 70; i++) await post(i); // refused while down
    runtime = startRuntimeProcess(env);
    await runtime.ready;
    for (; i < 120; i++) await post(i);

    expect(accepted.length).toBeGreaterThanOrEqual(110);
    const derived = await readUntil(
      kafka,
      ['email-events'],
      (m) =>
        m.message.value
          ? JSON.parse(decode(m.message.value).payload.toString()).correlationId.startsWith(`${run}-`)
          : false,
      accepted.length,
      30_000,
    );
    const causes = new Set(
      derived.map(
        (m) => JSON.parse(decode(m.message.value as Buffer).payload.toString()).causationId as string,
      ),
    );
    const missing = accepted.filter((id) => !causes.has(id));
    expect(missing).toEqual([]);
    runtime.child.kill('SIGINT');
    expect(await runtime.exited).toBe(0);
    await sleep(10);
  });
});
