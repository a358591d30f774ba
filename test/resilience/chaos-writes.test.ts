/**
 * Conservation while 20% of the consumers' writes of derived events fail at random; the analytics
 * count every accepted event exactly once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime';
import { withInjectedFailures } from '../support/chaos-writer';
import { testKafka, unique } from '../support/kafka-clients';
import { freePort } from '../support/runtime-process';
import { account, analyticsTotals, postAll, printTable, sourceEvents } from './conservation';

const brokers = inject('kafkaBrokers');
let runtime: LocalRuntime;
let injected = 0;

beforeAll(async () => {
  // Each injected failure is logged as an error by design; keep the run readable.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  runtime = await LocalRuntime.start({
    brokers,
    apiPort: await freePort(),
    // Every consumer's writes of derived events and dead letters fail 20% of the time.
    wrapConsumerWriter: (writer) =>
      withInjectedFailures(writer, 0.2, {
        onInjected: () => {
          injected += 1;
        },
      }),
  });
});
afterAll(async () => {
  delete process.env.POWERTOOLS_LOG_LEVEL;
  await runtime?.stop();
});

describe('10,000 events while 20% of derived-event writes fail', () => {
  it('reflects every accepted event downstream or in a dead-letter topic, and counts it once', async () => {
    const run = unique('chaos');
    const sent = sourceEvents(run, 10_000);
    const accepted = await postAll(() => runtime.apiUrl, sent);
    const kafka = testKafka(brokers, 'chaos-account');
    const report = await account(kafka, run, sent, accepted);
    printTable('conservation: 20% of derived-event writes fail', report.table);
    const totals = await analyticsTotals(kafka, runtime.analyticsStorage, sent, accepted);
    printTable('analytics: 20% of derived-event writes fail', totals.table);
    expect(injected).toBeGreaterThan(0);
    expect(accepted.size).toBe(sent.length);
    expect(report.missing).toEqual([]);
    expect(totals.counted).toEqual(totals.expected);
  });
});
