/**
 * Items 3 and 7: the consumer path (local event-source mapping + user-consumer handler) against a
 * bare kafkajs consumer over the same preloaded records, then the same comparison across partition
 * counts and batch sizes, with each process's peak RSS. See bench/workers/consumer-path.ts.
 *
 * Both sides run with batching window 0: with a preloaded backlog every fetch is full anyway, and a
 * window would only add a wait at the end of the backlog.
 */
import { runWorker } from '../lib/child';
import { pick, type SuiteContext } from '../lib/context';
import { userEvent } from '../lib/fixtures';
import { createTopic, preload } from '../lib/kafka';
import type { ProfileSummary } from '../lib/profile';
import { ratio } from '../lib/stats';
import type { ConsumerArgs, ConsumerResult } from '../workers/consumer-path';

export interface ConsumerPathResult {
  readonly records: number;
  readonly partitions: number;
  readonly batchSize: number;
  readonly runs: { subject: ConsumerResult[]; baseline: ConsumerResult[] };
  readonly subject: { recordsPerSecond: number; peakRssMb: number };
  readonly baseline: { recordsPerSecond: number; peakRssMb: number };
  readonly ratio: number;
  readonly profile?: ProfileSummary;
}

export interface ScalingPoint {
  readonly partitions: number;
  readonly batchSize: number;
  readonly subject: ConsumerResult;
  readonly baseline: ConsumerResult;
  readonly ratio: number;
}

export interface ScalingResult {
  readonly timeLimitSeconds: number;
  readonly recordsPerTopic: Record<string, number>;
  readonly points: ScalingPoint[];
}

/** Preloaded topics of this run, by partition count, shared by both suites. */
const topics = new Map<number, { name: string; records: number }>();

async function sourceTopic(ctx: SuiteContext, partitions: number, records: number) {
  const existing = topics.get(partitions);
  if (existing) return existing;
  const name = `bench-${ctx.salt}-source-p${partitions}`;
  await createTopic(ctx.cluster, name, partitions);
  const t = performance.now();
  const bytes = await preload(ctx.cluster, name, records, (i) => userEvent(i, ctx.salt));
  ctx.log(
    `  preloaded ${records} records (${(bytes / 2 ** 20).toFixed(1)} MiB) on ${name} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const topic = { name, records };
  topics.set(partitions, topic);
  return topic;
}

let groups = 0;
function run(ctx: SuiteContext, args: Omit<ConsumerArgs, 'brokers' | 'groupId'>, tsx = false) {
  const groupId = `bench-${ctx.salt}-${args.mode}-${++groups}`;
  return runWorker<ConsumerResult>(
    'consumer-path',
    { ...args, brokers: ctx.cluster.brokers, groupId } satisfies ConsumerArgs,
    { env: ctx.functionEnv, timeoutMs: args.timeLimitMs + 60_000, tsx },
  );
}

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);

export async function consumerPath(ctx: SuiteContext): Promise<ConsumerPathResult> {
  const partitions = 6;
  const batchSize = 100;
  const topic = await sourceTopic(ctx, partitions, pick(ctx, 2000, 100_000));
  const common = { topic: topic.name, partitions, batchSize, windowSeconds: 0, timeLimitMs: 180_000 };
  const runs = { subject: [] as ConsumerResult[], baseline: [] as ConsumerResult[] };
  const rounds = pick(ctx, 1, 2);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['baseline', 'subject'] as const) : (['subject', 'baseline'] as const);
    for (const mode of order) {
      const r = await run(ctx, { ...common, mode });
      runs[mode].push(r);
      ctx.log(
        `  ${mode}: ${r.records} records in ${r.elapsedMs} ms = ${r.recordsPerSecond}/s, ${r.cpuMicrosPerRecord} µs CPU/record, peak RSS ${r.peakRssMb} MiB${r.complete ? '' : ' (time limit)'}`,
      );
    }
  }
  const side = (list: ConsumerResult[]) => ({
    recordsPerSecond: Math.round(mean(list.map((r) => r.recordsPerSecond))),
    peakRssMb: Math.max(...list.map((r) => r.peakRssMb)),
  });
  const subject = side(runs.subject);
  const baseline = side(runs.baseline);
  // Where the subject's time goes: a profiled run from the TypeScript sources.
  const profiled = await run(
    ctx,
    { ...common, mode: 'subject', timeLimitMs: pick(ctx, 1000, 8000), profile: true },
    true,
  );
  return {
    records: topic.records,
    partitions,
    batchSize,
    runs,
    subject,
    baseline,
    ratio: ratio(subject.recordsPerSecond, baseline.recordsPerSecond),
    ...(profiled.profile ? { profile: profiled.profile } : {}),
  };
}

export async function scaling(ctx: SuiteContext): Promise<ScalingResult> {
  const timeLimitMs = pick(ctx, 1500, 8000);
  const grid = pick(
    ctx,
    [
      { partitions: 1, batchSizes: [10] },
      { partitions: 6, batchSizes: [1000] },
    ],
    [1, 3, 6].map((partitions) => ({ partitions, batchSizes: [1, 10, 100, 1000] })),
  );
  const recordsPerTopic: Record<string, number> = {};
  const points: ScalingPoint[] = [];
  for (const { partitions, batchSizes } of grid) {
    const topic = await sourceTopic(ctx, partitions, pick(ctx, 2000, 50_000));
    recordsPerTopic[topic.name] = topic.records;
    for (const batchSize of batchSizes) {
      const common = { topic: topic.name, partitions, batchSize, windowSeconds: 0, timeLimitMs };
      const baseline = await run(ctx, { ...common, mode: 'baseline' });
      const subject = await run(ctx, { ...common, mode: 'subject' });
      const point = {
        partitions,
        batchSize,
        subject,
        baseline,
        ratio: ratio(subject.recordsPerSecond, baseline.recordsPerSecond),
      };
      points.push(point);
      ctx.log(
        `  ${partitions} partition(s), batch ${batchSize}: ${subject.recordsPerSecond}/s vs bare ${baseline.recordsPerSecond}/s (×${point.ratio}); peak RSS ${subject.peakRssMb} vs ${baseline.peakRssMb} MiB`,
      );
    }
  }
  return { timeLimitSeconds: timeLimitMs / 1000, recordsPerTopic, points };
}
