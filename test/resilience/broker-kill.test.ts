/**
 * Conservation on a 3-broker cluster (replication 3, min.insync.replicas 2) while one broker is
 * killed with SIGKILL and restarted; the analytics count every accepted event exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedKafka } from '../../local/kafka/broker';
import { LocalRuntime } from '../../local/runtime';
import { testKafka, unique } from '../support/kafka-clients';
import { freePort } from '../support/runtime-process';
import { account, analyticsTotals, postAll, printTable, sourceEvents } from './conservation';

let cluster: EmbeddedKafka;
let runtime: LocalRuntime;

beforeAll(async () => {
  cluster = await EmbeddedKafka.start({ nodes: 3, heapMb: 384 });
  console.log(`3-broker cluster ready in ${cluster.readyMillis} ms`);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  runtime = await LocalRuntime.start({ brokers: cluster.bootstrapServers, apiPort: await freePort() });
}, 300_000);
afterAll(async () => {
  delete process.env.POWERTOOLS_LOG_LEVEL;
  await runtime?.stop();
  await cluster?.stop();
});

describe('10,000 events while a broker of three is killed and restarted', () => {
  it('reflects every accepted event downstream or in a dead-letter topic, and counts it once', async () => {
    const run = unique('broker');
    const sent = sourceEvents(run, 10_000);
    const accepted = await postAll(() => runtime.apiUrl, sent, {
      between: async (batch) => {
        if (batch === 30) await cluster.stopNode(2, 'SIGKILL');
        if (batch === 70) await cluster.startNode(2);
      },
    });
    const kafka = testKafka(cluster.bootstrapServers, 'broker-account');
    const report = await account(kafka, run, sent, accepted);
    printTable('conservation: one broker of three killed and restarted', report.table);
    const totals = await analyticsTotals(kafka, runtime.analyticsStorage, sent, accepted);
    printTable('analytics: one broker of three killed and restarted', totals.table);
    expect(accepted.size).toBe(sent.length);
    expect(report.missing).toEqual([]);
    expect(totals.counted).toEqual(totals.expected);
  });
});
