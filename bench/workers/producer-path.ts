/**
 * Item 1, the producer path: the producer handler (API Gateway event in, validation, Glue framing,
 * Kafka write out) invoked directly, against a bare kafkajs producer sending the same records (same
 * key, value, headers and partition) with the same acks (all in-sync replicas).
 *
 * Each configuration (single events or batches of 100, at a given concurrency) runs baseline and
 * subject in alternating order over `rounds`, each for `durationMs` after a warm-up; latencies are
 * per request (a batch request's latency covers its 100 events).
 */
import '../../lambdas/shared/kafkajs-fix';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handler } from '../../lambdas/producer/handler';
import { handleRequest } from '../../lambdas/producer/producer';
import {
  createKafka,
  disconnectSharedProducer,
  type KafkaWriter,
  SharedProducer,
} from '../../lambdas/shared/kafka';
import { schemaVersionIds } from '../../lambdas/shared/records';
import { lambdaContext } from '../../local/lambda';
import type { AnyEvent } from '../../schemas/index';
import { bareKafka, bareProducer } from '../lib/bare';
import { apiGatewayEvent, recordOf, userEvent } from '../lib/fixtures';
import { type ProfileSummary, startProfile } from '../lib/profile';
import { type LatencySummary, ratio, summarize } from '../lib/stats';
import { peakRssMb, runWorker, workerArgs } from '../lib/worker';
import { CoalescingWriter } from '../prototypes/coalescing-writer';

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
  /** After measuring, try the coalescing writer prototype at these configurations. */
  readonly prototypes?: readonly ProducerConfig[];
}

/**
 * The producer logic (producer.ts `handleRequest`, without the middy/Powertools wrapper) writing
 * through today's SharedProducer and through the coalescing prototype, next to the bare producer.
 */
export interface PrototypeResult {
  readonly config: ProducerConfig;
  readonly bare: SideResult;
  readonly sharedProducer: SideResult;
  readonly coalescing: SideResult;
  /** Requests carried per Kafka send by the prototype. */
  readonly batchesPerSend: number;
  readonly ratios: { readonly sharedProducer: number; readonly coalescing: number };
}

export interface SideResult {
  readonly eventsPerSecond: number;
  readonly requests: number;
  readonly errors: number;
  readonly latency: LatencySummary;
}

export interface ProducerResult {
  readonly configs: { config: ProducerConfig; subject: SideResult; baseline: SideResult; ratio: number }[];
  readonly profiles: ProfileSummary[];
  readonly prototypes: PrototypeResult[];
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
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 === 0 ? (['baseline', 'subject'] as const) : (['subject', 'baseline'] as const);
      for (const which of order) {
        const call = which === 'subject' ? subject(config.mode) : baseline(config.mode);
        runs[which].push(await drive(call, config.concurrency, args.durationMs));
      }
    }
    const s = side(runs.subject, perRequest);
    const b = side(runs.baseline, perRequest);
    configs.push({ config, subject: s, baseline: b, ratio: ratio(s.eventsPerSecond, b.eventsPerSecond) });
  }
  const prototypes: PrototypeResult[] = [];
  if (args.prototypes && args.prototypes.length > 0) {
    const settings = { brokers: args.brokers.split(','), auth: 'plaintext' as const, region: undefined };
    const shared = new SharedProducer(createKafka({ ...settings, clientId: 'bench-shared' }, () => {}));
    const idempotent = createKafka({ ...settings, clientId: 'bench-coalescing' }, () => {}).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await idempotent.connect();
    const coalescing = new CoalescingWriter(idempotent);
    const ids = schemaVersionIds(undefined);
    const logic =
      (mode: ProducerConfig['mode'], writer: KafkaWriter): Call =>
      async (i) => {
        const list = apiEvents[mode];
        const event = list[i % list.length] as APIGatewayProxyEvent;
        return (await handleRequest(event, { writer, schemaVersionIds: ids })).statusCode === 202;
      };
    for (const config of args.prototypes) {
      const perRequest = config.mode === 'batch' ? BATCH : 1;
      const calls = {
        bare: baseline(config.mode),
        sharedProducer: logic(config.mode, shared),
        coalescing: logic(config.mode, coalescing),
      };
      const names = Object.keys(calls) as (keyof typeof calls)[];
      const runs: Record<keyof typeof calls, Run[]> = { bare: [], sharedProducer: [], coalescing: [] };
      for (const name of names) await drive(calls[name], config.concurrency, args.warmupMs);
      const sendsBefore = coalescing.sends;
      const batchesBefore = coalescing.batches;
      for (let round = 0; round < args.rounds; round++)
        for (const name of round % 2 === 0 ? names : [...names].reverse())
          runs[name].push(await drive(calls[name], config.concurrency, args.durationMs));
      const bare = side(runs.bare, perRequest);
      const viaShared = side(runs.sharedProducer, perRequest);
      const viaCoalescing = side(runs.coalescing, perRequest);
      prototypes.push({
        config,
        bare,
        sharedProducer: viaShared,
        coalescing: viaCoalescing,
        batchesPerSend:
          Math.round(
            ((coalescing.batches - batchesBefore) / Math.max(1, coalescing.sends - sendsBefore)) * 10,
          ) / 10,
        ratios: {
          sharedProducer: ratio(viaShared.eventsPerSecond, bare.eventsPerSecond),
          coalescing: ratio(viaCoalescing.eventsPerSecond, bare.eventsPerSecond),
        },
      });
    }
    await shared.disconnect();
    await idempotent.disconnect();
  }
  for (const config of args.profile ?? []) {
    await drive(subject(config.mode), config.concurrency, args.warmupMs);
    const profiler = await startProfile(`producer-${config.mode}-c${config.concurrency}`);
    await drive(subject(config.mode), config.concurrency, args.durationMs);
    profiles.push(await profiler.stop());
  }
  await bare.disconnect();
  await disconnectSharedProducer();
  return { configs, profiles, prototypes, peakRssMb: peakRssMb() };
}

runWorker(main);
