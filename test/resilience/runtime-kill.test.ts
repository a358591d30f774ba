/** Conservation while the local runtime is killed with SIGKILL and started again, twice. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { testKafka, unique } from '../support/kafka-clients';
import { freePort, type RuntimeProcess, startRuntimeProcess } from '../support/runtime-process';
import { account, postAll, printTable, sourceEvents } from './conservation';

const brokers = inject('kafkaBrokers');
let runtime: RuntimeProcess | undefined;

afterAll(async () => {
  runtime?.child.kill('SIGINT');
  await runtime?.exited;
});

describe('10,000 events while the runtime is killed and restarted', () => {
  it('reflects every accepted event downstream or in a dead-letter topic', async () => {
    const apiPort = await freePort();
    const env = { KAFKA_BROKERS: brokers, API_PORT: String(apiPort) };
    runtime = startRuntimeProcess(env);
    await runtime.ready;
    const run = unique('kill');
    const sent = sourceEvents(run, 10_000);
    let kills = 0;
    const accepted = await postAll(() => `http://127.0.0.1:${apiPort}`, sent, {
      between: async (batch) => {
        // After batches 30 and 70: SIGKILL mid-stream, then start again (the client keeps retrying).
        if (batch !== 30 && batch !== 70) return;
        runtime?.child.kill('SIGKILL');
        await runtime?.exited;
        kills++;
        await sleep(500);
        runtime = startRuntimeProcess(env);
        void runtime.ready.catch(() => {});
      },
    });
    await runtime.ready;
    const report = await account(testKafka(brokers, 'kill-account'), run, sent, accepted);
    printTable(`conservation: runtime killed with SIGKILL ${kills} times`, report.table);
    expect(kills).toBe(2);
    expect(accepted.size).toBe(sent.length);
    expect(report.missing).toEqual([]);
  });
});
