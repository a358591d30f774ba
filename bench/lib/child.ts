/**
 * The parent side of benchmark workers. Workers run in their own processes so what one measures
 * (CPU, peak RSS) is not mixed with the load generator's or another benchmark's. They are bundled
 * once per run with esbuild (plain `node` starts them in a fraction of tsx's time, and their RSS holds
 * no TypeScript loader); profiled runs use tsx instead, so profiles name source files.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { ESM_REQUIRE_BANNER, NODE_TARGET } from '../../core/bundling';
import type { FromWorker, ToWorker } from './worker';

export const WORKERS = [
  'producer-path',
  'http-server',
  'consumer-path',
  'cpu',
  'pipeline',
  'analytics',
] as const;
export type WorkerName = (typeof WORKERS)[number];

const OUT_DIR = resolve('.cache', 'bench', 'workers');

/** Bundles every worker into .cache/bench/workers/<name>.mjs. */
export async function buildWorkers(): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true });
  await build({
    entryPoints: WORKERS.map((w) => join('bench', 'workers', `${w}.ts`)),
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    banner: { js: ESM_REQUIRE_BANNER },
    // Loaded from node_modules at run time: the AWS SDK (as in Lambda), esbuild's native binary, and
    // Powertools' optional Avro and Protobuf deserializers (never loaded: values are JSON).
    external: ['@aws-sdk/*', 'esbuild', 'avro-js', 'protobufjs'],
    sourcemap: 'linked',
    logLevel: 'silent',
  });
}

export interface WorkerOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the worker after this long. */
  readonly timeoutMs: number;
  /** Run the TypeScript source through tsx (for profiles) instead of the bundle. */
  readonly tsx?: boolean;
}

/** A running worker. */
export class Worker {
  private readonly messages: FromWorker[] = [];
  private readonly waiters: ((m: FromWorker | undefined) => void)[] = [];
  private readonly output: string[] = [];
  private exited = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    readonly name: WorkerName,
    private readonly child: ChildProcess,
    timeoutMs: number,
  ) {
    const keep = (chunk: Buffer) => {
      if (process.env.BENCH_DEBUG) process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
      this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.output.length > 40) this.output.splice(0, this.output.length - 40);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (m: FromWorker) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(m);
      else this.messages.push(m);
    });
    child.on('exit', () => {
      this.exited = true;
      clearTimeout(this.timer);
      for (const w of this.waiters.splice(0)) w(undefined);
    });
    this.timer = setTimeout(() => {
      this.output.push(`[bench] ${name} killed after ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
  }

  static start(name: WorkerName, args: unknown, options: WorkerOptions): Worker {
    const file = options.tsx ? resolve('bench', 'workers', `${name}.ts`) : join(OUT_DIR, `${name}.mjs`);
    const child = spawn(
      process.execPath,
      [...(options.tsx ? ['--import', 'tsx'] : []), file, JSON.stringify(args)],
      {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ...options.env },
      },
    );
    return new Worker(name, child, options.timeoutMs);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private next(): Promise<FromWorker | undefined> {
    const queued = this.messages.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited) return Promise.resolve(undefined);
    return new Promise((resolveMessage) => this.waiters.push(resolveMessage));
  }

  /** The data of the next `expected` message; throws on an error message or an early exit. */
  async expect<T>(expected: 'ready' | 'result'): Promise<T> {
    const message = await this.next();
    if (!message) throw new Error(`${this.name} worker exited early:\n${this.output.join('\n')}`);
    if (message.type === 'error') throw new Error(`${this.name} worker failed: ${message.message}`);
    if (message.type !== expected)
      throw new Error(`${this.name} worker sent ${message.type}, expected ${expected}`);
    return message.data as T;
  }

  send(message: ToWorker): void {
    this.child.send(message);
  }

  /** Waits for the process to end (it ends itself after its result). */
  async exit(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((r) => this.child.once('exit', () => r()));
  }

  /** Kills this worker (our own child) if it still runs. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** Starts a worker, waits for its result, and returns it. */
export async function runWorker<T>(name: WorkerName, args: unknown, options: WorkerOptions): Promise<T> {
  const worker = Worker.start(name, args, options);
  try {
    const result = await worker.expect<T>('result');
    await worker.exit();
    return result;
  } finally {
    worker.kill();
  }
}
