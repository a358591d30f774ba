/** Item 1: the producer handler against a bare kafkajs producer; see bench/workers/producer-path.ts. */
import { runWorker } from '../lib/child';
import { pick, type SuiteContext } from '../lib/context';
import type { ProducerArgs, ProducerConfig, ProducerResult } from '../workers/producer-path';

export type ProducerPathResult = ProducerResult;

export async function producerPath(ctx: SuiteContext): Promise<ProducerPathResult> {
  const configs: ProducerConfig[] = [];
  for (const mode of ['single', 'batch'] as const)
    for (const concurrency of pick(ctx, [8], [1, 8, 64])) configs.push({ mode, concurrency });
  const args: ProducerArgs = {
    brokers: ctx.cluster.brokers,
    salt: ctx.salt,
    configs,
    durationMs: pick(ctx, 250, 3000),
    warmupMs: pick(ctx, 100, 1000),
    rounds: pick(ctx, 1, 2),
    // The smoke run profiles in the same (bundled) worker; the full run profiles separately, below.
    ...(ctx.smoke ? { profile: configs.slice(0, 1) } : {}),
  };
  ctx.log(
    `producer path: ${configs.length} configurations × ${args.rounds} round(s) × ${args.durationMs} ms`,
  );
  const measured = await runWorker<ProducerResult>('producer-path', args, {
    env: ctx.functionEnv,
    timeoutMs: 10 * 60_000,
  });
  for (const c of measured.configs) {
    ctx.log(
      `  ${c.config.mode} c=${c.config.concurrency}: ${c.subject.eventsPerSecond} events/s vs bare ${c.baseline.eventsPerSecond} (×${c.ratio}); p99 ${c.subject.latency.p99Ms} vs ${c.baseline.latency.p99Ms} ms; ${c.requestsPerSend} requests per send`,
    );
  }
  if (ctx.smoke) return measured;
  // Profile the subject where it falls furthest behind, in each mode, from the TypeScript sources.
  const worst = (['single', 'batch'] as const).flatMap((mode) => {
    const sorted = measured.configs.filter((c) => c.config.mode === mode).sort((a, b) => a.ratio - b.ratio);
    return sorted[0] ? [sorted[0].config] : [];
  });
  const profiled = await runWorker<ProducerResult>(
    'producer-path',
    { ...args, configs: [], profile: worst },
    { env: ctx.functionEnv, timeoutMs: 5 * 60_000, tsx: true },
  );
  return { ...measured, profiles: profiled.profiles };
}
