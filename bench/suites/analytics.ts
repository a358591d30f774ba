/**
 * The analytics function's batch processing against a bare loop doing the same DynamoDB writes, on
 * moto's server (local/moto.ts, as `npm start` runs it) or on `DYNAMODB_ENDPOINT` when set. See
 * bench/workers/analytics.ts. Each run is a fresh process with a fresh table; the sides alternate.
 *
 * moto is a Python stand-in, far slower than DynamoDB, so the absolute figures are moto's: the ratio
 * says what the function adds on top of its writes.
 */

import { startMotoServer } from '../../local/moto';
import { runWorker } from '../lib/child';
import { pick, type SuiteContext } from '../lib/context';
import { ratio } from '../lib/stats';
import type { AnalyticsArgs, AnalyticsResult } from '../workers/analytics';

export interface AnalyticsBenchResult {
  readonly records: number;
  readonly batchSize: number;
  readonly days: number;
  /** `moto` or `DYNAMODB_ENDPOINT`. */
  readonly endpoint: string;
  readonly runs: { subject: AnalyticsResult[]; baseline: AnalyticsResult[] };
  readonly subject: AnalyticsSide;
  readonly baseline: AnalyticsSide;
  /** Subject records/s over the baseline's. */
  readonly ratio: number;
  /** Subject CPU time per record over the baseline's. */
  readonly cpuRatio: number;
}

interface AnalyticsSide {
  readonly recordsPerSecond: number;
  readonly cpuUsPerRecord: number;
  readonly transactionsPerBatch: number;
  readonly peakRssMb: number;
}

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);

export async function analyticsBench(ctx: SuiteContext): Promise<AnalyticsBenchResult> {
  const given = process.env.DYNAMODB_ENDPOINT?.trim();
  const moto = given ? undefined : await startMotoServer();
  const endpoint = given || (moto?.endpoint as string);
  try {
    // The mapping's default batch size (core/topology.ts); three days, so a batch updates three totals.
    // moto copies the whole table for each action of a transaction (moto/dynamodb/models/__init__.py,
    // transact_write_items), so a transaction's time grows with the table and a run's with the square of
    // its records: a few hundred records take tens of seconds.
    const common = {
      endpoint,
      records: pick(ctx, 60, 600),
      batchSize: pick(ctx, 20, 100),
      days: 3,
      salt: ctx.salt,
      timeLimitMs: pick(ctx, 20_000, 120_000),
    };
    const runs = { subject: [] as AnalyticsResult[], baseline: [] as AnalyticsResult[] };
    const rounds = pick(ctx, 1, 2);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['baseline', 'subject'] as const) : (['subject', 'baseline'] as const);
      for (const mode of order) {
        const args: AnalyticsArgs = { ...common, mode, tableName: `bench-${ctx.salt}-${mode}-${round}` };
        const r = await runWorker<AnalyticsResult>('analytics', args, {
          env: ctx.functionEnv,
          timeoutMs: common.timeLimitMs + 60_000,
        });
        runs[mode].push(r);
        ctx.log(
          `  ${mode}: ${r.records} records in ${r.batches} batches, ${r.transactions} transactions, ${r.elapsedMs} ms = ${r.recordsPerSecond}/s, ${r.cpuUsPerRecord} µs CPU/record, peak RSS ${r.peakRssMb} MiB${r.complete ? '' : ' (time limit)'}`,
        );
      }
    }
    const side = (list: AnalyticsResult[]): AnalyticsSide => ({
      recordsPerSecond: Math.round(mean(list.map((r) => r.recordsPerSecond))),
      cpuUsPerRecord: Math.round(mean(list.map((r) => r.cpuUsPerRecord))),
      transactionsPerBatch:
        Math.round(
          (list.reduce((s, r) => s + r.transactions, 0) /
            Math.max(
              1,
              list.reduce((s, r) => s + r.batches, 0),
            )) *
            100,
        ) / 100,
      peakRssMb: Math.max(...list.map((r) => r.peakRssMb)),
    });
    const subject = side(runs.subject);
    const baseline = side(runs.baseline);
    return {
      records: common.records,
      batchSize: common.batchSize,
      days: common.days,
      endpoint: moto ? 'moto' : 'DYNAMODB_ENDPOINT',
      runs,
      subject,
      baseline,
      ratio: ratio(subject.recordsPerSecond, baseline.recordsPerSecond),
      cpuRatio: ratio(subject.cpuUsPerRecord, baseline.cpuUsPerRecord),
    };
  } finally {
    await moto?.stop();
  }
}
