/**
 * Conservation while the local runtime is killed with SIGKILL and started again, twice; the analytics
 * count every accepted event exactly once. The DynamoDB endpoint (a moto server) is this test's, not
 * the runtime's, so the table outlives each kill, as a table in AWS outlives the functions.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { testKafka, unique } from '../support/kafka-clients';
import { startMoto } from '../support/python-tools';
import { freePort, type RuntimeProcess, startRuntimeProcess } from '../support/runtime-process';
import { account, analyticsTotals, postAll, printTable, sourceEvents } from './conservation';

const brokers = inject('kafkaBrokers');
let runtime: RuntimeProcess | undefined;
let moto: Awaited<ReturnType<typeof startMoto>> | undefined;

afterAll(async () => {
  runtime?.child.kill('SIGINT');
  await runtime?.exited;
  await moto?.stop();
});

describe('10,000 events while the runtime is killed and restarted', () => {
  it('reflects every accepted event downstream or in a dead-letter topic, and counts it once', async () => {
    const apiPort = await freePort();
    moto = await startMoto();
    const storage = { endpoint: moto.endpoint, tableName: unique('kill-analytics') };
    const env = {
      KAFKA_BROKERS: brokers,
      API_PORT: String(apiPort),
      DYNAMODB_ENDPOINT: storage.endpoint,
      ANALYTICS_TABLE: storage.tableName,
    };
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
    const kafka = testKafka(brokers, 'kill-account');
    const report = await account(kafka, run, sent, accepted);
    printTable(`conservation: runtime killed with SIGKILL ${kills} times`, report.table);
    const totals = await analyticsTotals(kafka, storage, sent, accepted);
    printTable(`analytics: runtime killed with SIGKILL ${kills} times`, totals.table);
    expect(kills).toBe(2);
    expect(accepted.size).toBe(sent.length);
    expect(report.missing).toEqual([]);
    expect(totals.counted).toEqual(totals.expected);
  });
});
