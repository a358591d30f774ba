/**
 * Item 2: the local API under load from autocannon (open model: a fixed overall request rate), against
 * a bare node:http + kafkajs server (bench/workers/http-server.ts). Reports p50/p99 at a fixed rate,
 * then climbs a ladder of rates to find the highest one each sustains: every request answered 2xx
 * with no error or timeout, at least 95 % of the asked rate achieved, and p99 under 1 s.
 */
import autocannon from 'autocannon';
import { Worker } from '../lib/child';
import { pick, type SuiteContext } from '../lib/context';
import { userEvent } from '../lib/fixtures';
import { ratio, round } from '../lib/stats';
import type { HttpServerArgs, HttpServerResult } from '../workers/http-server';

export interface RateStep {
  readonly rate: number;
  readonly achieved: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly sustained: boolean;
}

export interface HttpSide {
  readonly fixedRate: RateStep;
  readonly ladder: readonly RateStep[];
  /** Highest rate of the ladder sustained (0 if none). */
  readonly maxSustainedRate: number;
  readonly server: HttpServerResult;
}

export interface HttpPathResult {
  readonly fixedRate: number;
  readonly stepSeconds: number;
  readonly subject: HttpSide;
  readonly baseline: HttpSide;
  readonly ratios: { readonly p50: number; readonly p99: number; readonly maxSustainedRate: number };
}

async function load(
  port: number,
  rate: number,
  seconds: number,
  bodies: readonly string[],
): Promise<RateStep> {
  let i = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: Math.min(200, Math.max(16, Math.ceil(rate / 20))),
    overallRate: rate,
    duration: seconds,
    timeout: 5,
    requests: [
      {
        method: 'POST',
        path: '/events/user',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: bodies[i++ % bodies.length] }),
      },
    ],
  });
  const achieved = Math.round(result.requests.total / result.duration);
  const step = {
    rate,
    achieved,
    p50Ms: round(result.latency.p50, 2),
    p99Ms: round(result.latency.p99, 2),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
  return {
    ...step,
    sustained: step.errors === 0 && step.non2xx === 0 && achieved >= 0.95 * rate && step.p99Ms < 1000,
  };
}

async function measure(ctx: SuiteContext, mode: HttpServerArgs['mode']): Promise<HttpSide> {
  const worker = Worker.start(
    'http-server',
    { mode, brokers: ctx.cluster.brokers } satisfies HttpServerArgs,
    { env: ctx.functionEnv, timeoutMs: 15 * 60_000 },
  );
  try {
    const { port } = await worker.expect<{ port: number }>('ready');
    const bodies = Array.from({ length: 1000 }, (_, i) => JSON.stringify(userEvent(i, ctx.salt)));
    const stepSeconds = pick(ctx, 1, 4);
    await load(port, 100, 1, bodies); // warm-up
    const fixedRate = await load(port, pick(ctx, 100, 200), pick(ctx, 1, 10), bodies);
    ctx.log(`  ${mode} at ${fixedRate.rate}/s: p50 ${fixedRate.p50Ms} ms, p99 ${fixedRate.p99Ms} ms`);
    const ladder: RateStep[] = [];
    for (const rate of pick(
      ctx,
      [200],
      [100, 200, 300, 500, 700, 1000, 1400, 2000, 2800, 4000, 5600, 8000],
    )) {
      const step = await load(port, rate, stepSeconds, bodies);
      ladder.push(step);
      ctx.log(
        `  ${mode} ${rate}/s: achieved ${step.achieved}/s, p99 ${step.p99Ms} ms, errors ${step.errors}, non-2xx ${step.non2xx}${step.sustained ? '' : ' (not sustained)'}`,
      );
      if (!step.sustained) break;
    }
    worker.send({ type: 'stop' });
    const server = await worker.expect<HttpServerResult>('result');
    return {
      fixedRate,
      ladder,
      maxSustainedRate: Math.max(0, ...ladder.filter((s) => s.sustained).map((s) => s.rate)),
      server,
    };
  } finally {
    worker.kill();
  }
}

export async function httpPath(ctx: SuiteContext): Promise<HttpPathResult> {
  const baseline = await measure(ctx, 'baseline');
  const subject = await measure(ctx, 'subject');
  return {
    fixedRate: subject.fixedRate.rate,
    stepSeconds: pick(ctx, 1, 4),
    subject,
    baseline,
    ratios: {
      p50: ratio(subject.fixedRate.p50Ms, baseline.fixedRate.p50Ms),
      p99: ratio(subject.fixedRate.p99Ms, baseline.fixedRate.p99Ms),
      maxSustainedRate: ratio(subject.maxSustainedRate, baseline.maxSustainedRate),
    },
  };
}
