/** Conservation while 20% of the consumers' writes of derived events fail at random. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime';
import { testKafka, unique } from '../support/kafka-clients';
import { freePort } from '../support/runtime-process';
import { account, postAll, printTable, sourceEvents } from './conservation';

const brokers = inject('kafkaBrokers');
let runtime: LocalRuntime;

beforeAll(async () => {
  // Read by the consumer functions when they load (lambdas/shared/chaos.ts).
  process.env.CHAOS_DERIVED_WRITE_FAILURE_RATE = '0.2';
  // Each injected failure is logged as an error by design; keep the run readable.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort() });
});
afterAll(async () => {
  delete process.env.CHAOS_DERIVED_WRITE_FAILURE_RATE;
  delete process.env.POWERTOOLS_LOG_LEVEL;
  await runtime?.stop();
});

describe('10,000 events while 20% of derived-event writes fail', () => {
  it('reflects every accepted event downstream or in a dead-letter topic', async () => {
    const run = unique('chaos');
    const sent = sourceEvents(run, 10_000);
    const accepted = await postAll(() => runtime.apiUrl, sent);
    const report = await account(testKafka(brokers, 'chaos-account'), run, sent, accepted);
    printTable('conservation: 20% of derived-event writes fail', report.table);
    expect(accepted.size).toBe(sent.length);
    expect(report.missing).toEqual([]);
  });
});
