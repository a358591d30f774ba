/**
 * Item 5, end to end: `POST /events/user` of a user_registered event → its welcome_email_sent
 * readable on email-events, at a fixed rate (open model: requests leave on schedule whatever the
 * answers, so a slow system cannot slow the load down and hide its latency), against the same path
 * built from bare clients (bench/workers/pipeline.ts). A reader in this process matches each derived
 * record to its request by correlation id; latency runs from the request's scheduled departure to the
 * moment the reader holds the derived record.
 */
import { Agent, request } from 'node:http';
import { Worker } from '../lib/child';
import { pick, type SuiteContext } from '../lib/context';
import { userEvent } from '../lib/fixtures';
import { type LatencySummary, ratio, summarize } from '../lib/stats';
import type { PipelineArgs, PipelineResult } from '../workers/pipeline';

export interface EndToEndSide {
  readonly sent: number;
  readonly accepted: number;
  readonly delivered: number;
  /** Accepted requests whose derived event was not read within the grace period. */
  readonly lost: number;
  readonly e2e: LatencySummary;
  readonly http: LatencySummary;
  readonly achievedRate: number;
  readonly server: PipelineResult;
}

export interface EndToEndResult {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly subject: EndToEndSide;
  readonly baseline: EndToEndSide;
  readonly ratios: { readonly p50: number; readonly p95: number; readonly p99: number };
}

const GRACE_MS = 5000;

function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/events/user',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Derived records read, by correlation id. */
const arrivals = new Map<string, number>();
const waiting = new Map<string, () => void>();

async function side(ctx: SuiteContext, mode: PipelineArgs['mode']): Promise<EndToEndSide> {
  const worker = Worker.start(
    'pipeline',
    { mode, brokers: ctx.cluster.brokers, salt: ctx.salt } satisfies PipelineArgs,
    { env: ctx.functionEnv, timeoutMs: 10 * 60_000 },
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const { port } = await worker.expect<{ port: number }>('ready');
    ctx.log(`  ${mode}: ready`);
    const rate = 200;
    const durationMs = pick(ctx, 2000, 60_000);
    const count = Math.round((rate * durationMs) / 1000);
    const interval = 1000 / rate;
    const event = (i: number, tag: string) => {
      const e = userEvent(i, ctx.salt, 'user_registered');
      return { ...e, correlationId: `e2e-${ctx.salt}-${mode}-${tag}-${i}` };
    };
    // Warm-up: connections, JIT, group assignments; not measured.
    const warm = Array.from({ length: pick(ctx, 20, 200) }, (_, i) => event(i, 'warm'));
    for (const e of warm) {
      await post(agent, port, JSON.stringify(e));
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 1000));
    ctx.log(`  ${mode}: warm`);

    const bodies = Array.from({ length: count }, (_, i) => event(i, 'run'));
    const e2e: number[] = [];
    const http: number[] = [];
    let accepted = 0;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const body = bodies[i] as { correlationId: string };
      const delivered = new Promise<void>((resolve) => waiting.set(body.correlationId, resolve));
      inFlight.push(
        (async () => {
          const status = await post(agent, port, JSON.stringify(body));
          http.push(performance.now() - due);
          if (status !== 202) {
            waiting.delete(body.correlationId);
            return;
          }
          accepted++;
          const timeout = new Promise<void>((r) => setTimeout(r, GRACE_MS));
          await Promise.race([delivered, timeout]);
          const at = arrivals.get(body.correlationId);
          if (at !== undefined) e2e.push(at - due);
          waiting.delete(body.correlationId);
        })(),
      );
    }
    const sentAt = performance.now();
    await Promise.all(inFlight);
    ctx.log(`  ${mode}: done`);
    worker.send({ type: 'stop' });
    const server = await worker.expect<PipelineResult>('result');
    const result = {
      sent: count,
      accepted,
      delivered: e2e.length,
      lost: accepted - e2e.length,
      e2e: summarize(e2e),
      http: summarize(http),
      achievedRate: Math.round((count * 1000) / (sentAt - started)),
      server,
    };
    ctx.log(
      `  ${mode}: ${result.delivered}/${count} delivered, end to end p50 ${result.e2e.p50Ms} / p95 ${result.e2e.p95Ms} / p99 ${result.e2e.p99Ms} ms; HTTP p99 ${result.http.p99Ms} ms`,
    );
    return result;
  } finally {
    agent.destroy();
    worker.kill();
  }
}

export async function endToEnd(ctx: SuiteContext): Promise<EndToEndResult> {
  const kafka = ctx.cluster.kafka;
  const groupId = `bench-e2e-reader-${ctx.salt}`;
  const reader = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await reader.connect();
  // A new group reading from the end: its position is fixed by its first fetch, awaited below.
  await reader.subscribe({ topic: 'email-events', fromBeginning: false });
  const fetched = new Promise<void>((resolve) => {
    const remove = reader.on(reader.events.FETCH, () => {
      remove();
      resolve();
    });
  });
  await reader.run({
    eachMessage: async ({ message }) => {
      const at = performance.now();
      const id = message.headers?.['correlation-id']?.toString();
      if (!id) return;
      arrivals.set(id, at);
      waiting.get(id)?.();
    },
  });
  await fetched;
  try {
    const baseline = await side(ctx, 'baseline');
    const subject = await side(ctx, 'subject');
    return {
      rate: 200,
      durationSeconds: pick(ctx, 2, 60),
      subject,
      baseline,
      ratios: {
        p50: ratio(subject.e2e.p50Ms, baseline.e2e.p50Ms),
        p95: ratio(subject.e2e.p95Ms, baseline.e2e.p95Ms),
        p99: ratio(subject.e2e.p99Ms, baseline.e2e.p99Ms),
      },
    };
  } finally {
    await reader.disconnect();
    arrivals.clear();
  }
}
