/**
 * Item 1, the producer path: the producer handler (API Gateway event in, validation, Glue framing,
 * Kafka write out) invoked directly, against a bare kafkajs producer sending the same records (same
 * key, value, headers and partition) with the same acks (all in-sync replicas).
 *
 * Each configuration (single events or batches of 100, at a given concurrency) runs baseline and
 * subject in alternating order over `rounds`, each for `durationMs` after a warm-up; latencies are
 * per request (a batch request's latency covers its 100 events). The subject is the handler as the
 * local runtime builds it, writing through a coalescing writer (local/coalescing-writer.ts, which
 * merges the batches queued behind an in-flight send); its requests per Kafka send are read from that
 * writer's `stats` around the measured runs.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createHandler } from '../../lambdas/producer/handler';
import { type CoalescingWriter, coalescingWriters } from '../../local/coalescing-writer';
import { lambdaContext } from '../../local/lambda';
import type { AnyEvent } from '../../schemas/index';
import { bareKafka, bareProducer } from '../lib/bare';
import { apiGatewayEvent, recordOf, userEvent } from '../lib/fixtures';
import { type ProfileSummary, startProfile } from '../lib/profile';
import { type LatencySummary, ratio, summarize } from '../lib/stats';
import { peakRssMb, runWorker, workerArgs } from '../lib/worker';

export interface ProducerConfig {
  readonly mode: 'single' | 'batch';
  readonly concurrency: number;
}

export interface ProducerArgs {
  readonly brokers: string;
  readonly salt: string;
  readonly configs: readonly ProducerConfig[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly rounds: number;
  /** After measuring, profile the subject at these configurations. */
  readonly profile?: readonly ProducerConfig[];
}

export interface SideResult {
  readonly eventsPerSecond: number;
  readonly requests: number;
  readonly errors: number;
  readonly latency: LatencySummary;
}

export interface ProducerResult {
  readonly configs: {
    config: ProducerConfig;
    subject: SideResult;
    baseline: SideResult;
    ratio: number;
    /** Handler requests (caller batches) carried per Kafka produce request, over the measured runs. */
    requestsPerSend: number;
  }[];
  readonly profiles: ProfileSummary[];
  readonly peakRssMb: number;
}

const BATCH = 100;
const MAX_REQUESTS = 1_000_000;

type Call = (i: number) => Promise<boolean>;

interface Run {
  requests: number;
  errors: number;
  elapsedMs: number;
  latencies: number[];
}

/** `concurrency` loops calling `call` back to back until `durationMs` has passed. */
async function drive(call: Call, concurrency: number, durationMs: number): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && next < MAX_REQUESTS) {
        const i = next++;
        const t = performance.now();
        const ok = await call(i).catch(() => false);
        latencies.push(performance.now() - t);
        if (!ok) errors++;
      }
    }),
  );
  return { requests: latencies.length, errors, elapsedMs: performance.now() - started, latencies };
}

function side(runs: readonly Run[], eventsPerRequest: number): SideResult {
  const requests = runs.reduce((s, r) => s + r.requests, 0);
  const elapsed = runs.reduce((s, r) => s + r.elapsedMs, 0);
  return {
    eventsPerSecond: Math.round(
      ((requests - runs.reduce((s, r) => s + r.errors, 0)) * eventsPerRequest * 1000) / elapsed,
    ),
    requests,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    latency: summarize(runs.flatMap((r) => r.latencies)),
  };
}

async function main(): Promise<ProducerResult> {
  const args = workerArgs<ProducerArgs>();
  const bare = bareProducer(bareKafka(args.brokers, 'bench-bare-producer'));
  await bare.connect();

  // 512 distinct single events and 32 distinct batches of 100, cycled.
  const singles: AnyEvent[] = Array.from({ length: 512 }, (_, i) => userEvent(i, args.salt));
  const batches: AnyEvent[][] = Array.from({ length: 32 }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => userEvent(100_000 + b * BATCH + i, args.salt)),
  );
  const apiEvents = {
    single: singles.map((e, i) => apiGatewayEvent('user', JSON.stringify(e), false, `req-${i}`)),
    batch: batches.map((b, i) => apiGatewayEvent('user', JSON.stringify({ events: b }), true, `req-b${i}`)),
  };
  const toMessages = (events: readonly AnyEvent[]) =>
    events.map((e) => {
      const { message } = recordOf(e);
      return { key: message.key, value: message.value, headers: { ...message.headers } };
    });
  const bareMessages = { single: singles.map((e) => toMessages([e])), batch: batches.map(toMessages) };
  const fn = { name: 'producer', timeoutSeconds: 30, memoryMb: 512 };
  // The handler as the local runtime builds it (local/functions.ts), with the writer it gets.
  const writers = coalescingWriters();
  const handler = createHandler({ writer: writers.create });
  const { stats } = writers.writers[0] as CoalescingWriter;

  const subject =
    (mode: ProducerConfig['mode']): Call =>
    async (i) => {
      const list = apiEvents[mode];
      const event = list[i % list.length] as APIGatewayProxyEvent;
      const response = (await handler(
        event,
        lambdaContext(fn, Date.now() + 30_000),
      )) as APIGatewayProxyResult;
      return response.statusCode === 202;
    };
  const baseline =
    (mode: ProducerConfig['mode']): Call =>
    async (i) => {
      const list = bareMessages[mode];
      await bare.send({ topic: 'user-events', acks: -1, messages: list[i % list.length] ?? [] });
      return true;
    };

  const profiles: ProfileSummary[] = [];
  const configs: ProducerResult['configs'] = [];
  for (const config of args.configs) {
    const perRequest = config.mode === 'batch' ? BATCH : 1;
    await drive(baseline(config.mode), config.concurrency, args.warmupMs);
    await drive(subject(config.mode), config.concurrency, args.warmupMs);
    const runs = { subject: [] as Run[], baseline: [] as Run[] };
    const before = { ...stats };
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 === 0 ? (['baseline', 'subject'] as const) : (['subject', 'baseline'] as const);
      for (const which of order) {
        const call = which === 'subject' ? subject(config.mode) : baseline(config.mode);
        runs[which].push(await drive(call, config.concurrency, args.durationMs));
      }
    }
    const sends = stats.sends - before.sends;
    const batches = stats.batches - before.batches;
    const s = side(runs.subject, perRequest);
    // Every accepted request is one caller batch: if these disagree, the stats are not the handler's.
    if (sends === 0 || batches !== s.requests - s.errors)
      throw new Error(
        `producer stats (${batches} batches in ${sends} sends) do not match the handler's ${s.requests - s.errors} accepted requests`,
      );
    const b = side(runs.baseline, perRequest);
    configs.push({
      config,
      subject: s,
      baseline: b,
      ratio: ratio(s.eventsPerSecond, b.eventsPerSecond),
      requestsPerSend: Math.round((batches / sends) * 10) / 10,
    });
  }
  for (const config of args.profile ?? []) {
    await drive(subject(config.mode), config.concurrency, args.warmupMs);
    const profiler = await startProfile(`producer-${config.mode}-c${config.concurrency}`);
    await drive(subject(config.mode), config.concurrency, args.durationMs);
    profiles.push(await profiler.stop());
  }
  await bare.disconnect();
  await writers.disconnect();
  return { configs, profiles, peakRssMb: peakRssMb() };
}

runWorker(main);
