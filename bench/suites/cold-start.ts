/**
 * Item 6, cold start: each function's bundle as CDK deploys it (scripts/bundle.ts, lib/bundling.ts)
 * and the time from spawning a fresh Node process to the first invocation served by that bundle: the
 * module loaded, the handler invoked once with a real event, its Kafka write acknowledged. Baselines,
 * bundled with the same settings: a handler that does nothing (the floor: Node's own start), and bare
 * kafkajs handlers doing the same job by hand, and for the two DynamoDB functions (analytics,
 * analytics-api) bare handlers doing the same write or reads with the same AWS SDK client, which is
 * what those functions start against; and the bare consumer inside middy with Powertools Logger and
 * Metrics, the floor for a function that keeps its logs and metrics. Runs are interleaved across functions; medians are reported,
 * of the time and of the CPU time the process used (less disturbed by other work on the machine).
 * The producer's bundle is also weighed package by package, gzipped: each package's share is what the
 * gzipped bundle loses when that package's modules are emptied.
 *
 * The environment is the deployed one (metrics on, source maps on) except for what needs AWS: plain
 * Kafka instead of MSK IAM (no token to sign), tracing off (no X-Ray daemon), and the analytics
 * table on moto's server (local/moto.ts, as `npm start` runs it): the analytics function's first
 * invocation counts one event there, the analytics API's reads one day.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { build, type Plugin } from 'esbuild';
import { esbuildOptions, functionEntries } from '../../core/bundling';
import { consumers } from '../../core/topology';
import { ensureAnalyticsTable } from '../../local/analytics-table';
import { bundleAll } from '../../local/bundle';
import { type MotoServer, startMotoServer } from '../../local/moto';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import { pick, type SuiteContext } from '../lib/context';
import { apiGatewayEvent, benchUuid, mskEventOf, userEvent } from '../lib/fixtures';
import { median, ratio, round } from '../lib/stats';

const ATTRIBUTION = [
  'kafkajs',
  'powertools-logger-metrics',
  'powertools-tracer',
  'middy',
  'contracts-validator',
];

/** Issue 16's goals: every bundle at most 110 KB gzipped, every cold start within ×1.10 of its baseline. */
export const BUNDLE_GOAL_GZIP_BYTES = 110 * 1024;
export const COLD_START_GOAL_RATIO = 1.1;

export interface ColdStartRun {
  readonly totalMs: number;
  readonly bootMs: number;
  readonly importMs: number;
  readonly invokeMs: number;
  /** CPU time (user + system) of the process from its start to the first invocation served. */
  readonly cpuMs: number;
}

export interface ColdStartEntry {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Bytes in the bundle by package (or this project), largest first. */
  readonly packages: { readonly name: string; readonly bytes: number }[];
  readonly runs: ColdStartRun[];
  readonly median: ColdStartRun;
}

export interface ColdStartResult {
  readonly repetitions: number;
  readonly functions: (ColdStartEntry & {
    readonly baseline: string;
    readonly ratios: {
      readonly bytes: number;
      readonly gzipBytes: number;
      readonly coldStart: number;
      readonly cpu: number;
    };
  })[];
  readonly baselines: ColdStartEntry[];
  /** The producer's gzipped bundle by package: what it loses without each package's modules. */
  readonly producerGzipByPackage: { readonly name: string; readonly gzipBytes: number }[];
}

const RUNNER = `
const bootMs = performance.now();
const { pathToFileURL } = await import('node:url');
const { readFileSync } = await import('node:fs');
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT_FILE, 'utf8'));
const t0 = performance.now();
const mod = await import(pathToFileURL(process.env.BENCH_BUNDLE).href);
const t1 = performance.now();
const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
const deadline = Date.now() + 30000;
const context = {
  callbackWaitsForEmptyEventLoop: false, functionName: name, functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:' + name, memoryLimitInMB: '512',
  awsRequestId: 'cold-start', logGroupName: '/aws/lambda/' + name, logStreamName: 'cold-start',
  getRemainingTimeInMillis: () => deadline - Date.now(), done() {}, fail() {}, succeed() {},
};
let ok = true;
let detail = '';
try {
  const r = await mod.handler(event, context);
  if (r && typeof r.statusCode === 'number') { ok = r.statusCode < 300; detail = String(r.statusCode); }
  else if (r && Array.isArray(r.batchItemFailures)) { ok = r.batchItemFailures.length === 0; detail = 'failures ' + r.batchItemFailures.length; }
} catch (e) { ok = false; detail = String(e && e.stack || e); }
const t2 = performance.now();
const cpu = process.cpuUsage();
process.send({ bootMs, importMs: t1 - t0, invokeMs: t2 - t1, cpuMs: (cpu.user + cpu.system) / 1000, ok, detail }, () => process.exit(0));
`;

/** The API Gateway REST proxy event of `GET /analytics/daily?from=…&to=…`. */
function analyticsDailyEvent(from: string, to: string) {
  const base = apiGatewayEvent('user', '', false, 'cold-analytics');
  const path = '/analytics/daily';
  return {
    ...base,
    resource: path,
    path,
    httpMethod: 'GET',
    headers: { accept: 'application/json' },
    multiValueHeaders: { accept: ['application/json'] },
    queryStringParameters: { from, to },
    multiValueQueryStringParameters: { from: [from], to: [to] },
    pathParameters: null,
    body: null,
    requestContext: { ...base.requestContext, httpMethod: 'GET', path, resourcePath: path },
  };
}

/** The baseline of each function; a function without one here is compared with `bare-<name>`. */
const BASELINE_OF: Record<string, string> = {
  producer: 'bare-producer',
  'user-consumer': 'bare-consumer',
  'order-consumer': 'bare-consumer',
  'payment-consumer': 'bare-consumer',
};

const byPackage = (path: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(this project)';

function packages(inputs: readonly { path: string; bytes: number }[]) {
  const sizes = new Map<string, number>();
  for (const i of inputs) sizes.set(byPackage(i.path), (sizes.get(byPackage(i.path)) ?? 0) + i.bytes);
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, bytes]) => ({ name, bytes }));
}

/**
 * What each of the largest packages adds to the gzipped bundle of `entry`: the bundle rebuilt with
 * that package's modules emptied is that much smaller gzipped (gzip shares strings across packages, so
 * the shares do not add up exactly to the whole). The generated validators count as one package.
 */
async function gzipByPackage(entry: string): Promise<{ name: string; gzipBytes: number }[]> {
  const options = {
    ...esbuildOptions(entry, join(resolve('.cache', 'bench'), 'gzip-by-package.mjs')),
    write: false,
  };
  const mjs = (r: { outputFiles?: { path: string; contents: Uint8Array }[] }) =>
    r.outputFiles?.find((f) => f.path.endsWith('.mjs'))?.contents ?? new Uint8Array();
  const full = await build(options);
  const whole = gzipSync(mjs(full)).byteLength;
  const output = Object.entries(full.metafile?.outputs ?? {}).find(([k]) => k.endsWith('.mjs'))?.[1];
  const packageOf = (path: string) =>
    path.includes('schemas/generated/') ? 'schemas/generated' : byPackage(path);
  const sizes = new Map<string, number>();
  for (const [path, v] of Object.entries(output?.inputs ?? {}))
    sizes.set(packageOf(path), (sizes.get(packageOf(path)) ?? 0) + v.bytesInOutput);
  const largest = [...sizes]
    .filter(([name]) => name !== '(this project)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name]) => name);
  const shares = [];
  for (const name of largest) {
    const stub: Plugin = {
      name: 'empty-package',
      setup(b) {
        b.onLoad({ filter: /.*/ }, (args) =>
          packageOf(args.path) === name ? { contents: 'module.exports = {};', loader: 'js' } : undefined,
        );
      },
    };
    // An emptied package may break imports by name; esbuild then reports it, and the share is unknown.
    const without = await build({ ...options, plugins: [stub] }).catch(() => undefined);
    if (without) shares.push({ name, gzipBytes: whole - gzipSync(mjs(without)).byteLength });
  }
  return shares.sort((a, b) => b.gzipBytes - a.gzipBytes);
}

/** One fresh process serving one invocation; the time from spawn to the answer. */
function coldStart(bundle: string, eventFile: string, env: Record<string, string>): Promise<ColdStartRun> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [resolve('.cache', 'bench', 'cold-start-runner.mjs')], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...env, BENCH_BUNDLE: bundle, BENCH_EVENT_FILE: eventFile },
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on(
      'message',
      (m: {
        bootMs: number;
        importMs: number;
        invokeMs: number;
        cpuMs: number;
        ok: boolean;
        detail: string;
      }) => {
        const totalMs = performance.now() - started;
        clearTimeout(timer);
        if (!m.ok) reject(new Error(`${bundle}: the first invocation failed: ${m.detail}\n${stderr}`));
        else
          resolvePromise({
            totalMs: round(totalMs, 1),
            bootMs: round(m.bootMs, 1),
            importMs: round(m.importMs, 1),
            invokeMs: round(m.invokeMs, 1),
            cpuMs: round(m.cpuMs, 1),
          });
      },
    );
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${bundle}: exited (${code}) before answering\n${stderr}`));
    });
  });
}

/** The analytics table the analytics functions use here, on a moto server started for the suite. */
async function analyticsTable(ctx: SuiteContext): Promise<{ env: Record<string, string>; moto: MotoServer }> {
  const moto = await startMotoServer();
  const tableName = `bench-${ctx.salt}-cold-start`;
  const client = new DynamoDBClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    await ensureAnalyticsTable(client, tableName);
  } catch (error) {
    await moto.stop();
    throw error;
  } finally {
    client.destroy();
  }
  // Lambda gives every function AWS_REGION and its role's credentials in the environment
  // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html, "Defined runtime
  // environment variables"); moto accepts any credentials.
  return {
    env: {
      ANALYTICS_TABLE: tableName,
      DYNAMODB_ENDPOINT: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    },
    moto,
  };
}

export async function coldStartSuite(ctx: SuiteContext): Promise<ColdStartResult> {
  const { env: analyticsEnv, moto } = await analyticsTable(ctx);
  try {
    return await measure(ctx, analyticsEnv);
  } finally {
    await moto.stop();
  }
}

async function measure(ctx: SuiteContext, analyticsEnv: Record<string, string>): Promise<ColdStartResult> {
  const dir = resolve('.cache', 'bench');
  await mkdir(join(dir, 'events'), { recursive: true });
  await writeFile(join(dir, 'cold-start-runner.mjs'), RUNNER);
  const reports = await bundleAll(join(dir, 'bundles'));
  const baselineEntries: Record<string, string> = {
    empty: 'bench/baselines/empty-handler.ts',
    'bare-producer': 'bench/baselines/bare-producer-handler.ts',
    'bare-consumer': 'bench/baselines/bare-consumer-handler.ts',
    'bare-consumer-powertools': 'bench/baselines/bare-consumer-powertools-handler.ts',
    'bare-analytics': 'bench/baselines/bare-analytics-handler.ts',
    'bare-analytics-api': 'bench/baselines/bare-analytics-api-handler.ts',
  };
  // Attribution: each dependency group imported alone; its import time less the empty handler's.
  for (const name of ATTRIBUTION) baselineEntries[`import-${name}`] = `bench/baselines/imports/${name}.ts`;
  const baselineReports = [];
  for (const [name, entry] of Object.entries(baselineEntries)) {
    const file = join(dir, 'bundles', `baseline-${name}`, 'index.mjs');
    const result = await build(esbuildOptions(entry, file));
    const output = Object.entries(result.metafile?.outputs ?? {}).find(
      ([k]) => resolve(k) === resolve(file),
    )?.[1];
    const code = await readFile(file);
    baselineReports.push({
      name,
      file,
      bytes: code.byteLength,
      gzipBytes: gzipSync(code).byteLength,
      largestInputs: Object.entries(output?.inputs ?? {}).map(([path, v]) => ({
        path,
        bytes: v.bytesInOutput,
      })),
    });
  }

  const fresh = (type: 'order_created' | 'payment_processed', i: number) =>
    ({ ...eventExamples[type][0], eventId: benchUuid(ctx.salt, 900_000 + i) }) as AnyEvent;
  const events: Record<string, unknown> = {
    producer: apiGatewayEvent('user', JSON.stringify(userEvent(800_000, ctx.salt)), false, 'cold'),
    'user-consumer': mskEventOf([userEvent(800_001, ctx.salt, 'user_registered')]),
    'order-consumer': mskEventOf([fresh('order_created', 1)], 'order-events'),
    'payment-consumer': mskEventOf([fresh('payment_processed', 2)], 'payment-events'),
    analytics: mskEventOf([userEvent(800_002, ctx.salt, 'user_login')]),
    'analytics-api': analyticsDailyEvent('2026-11-23', '2026-11-23'),
  };
  const missing = reports.filter((r) => !(r.name in events)).map((r) => r.name);
  if (missing.length > 0)
    throw new Error(
      `no cold-start event for the function(s) ${missing.join(', ')} (bench/suites/cold-start.ts)`,
    );
  for (const name of ['empty', ...ATTRIBUTION.map((a) => `import-${a}`)]) events[name] = events.producer;
  events['bare-producer'] = events.producer;
  events['bare-consumer'] = events['user-consumer'];
  events['bare-consumer-powertools'] = events['user-consumer'];
  events['bare-analytics'] = events.analytics;
  events['bare-analytics-api'] = events['analytics-api'];
  const eventFiles: Record<string, string> = {};
  for (const [name, event] of Object.entries(events)) {
    eventFiles[name] = join(dir, 'events', `${name}.json`);
    await writeFile(eventFiles[name], JSON.stringify(event));
  }

  const all = [...reports, ...baselineReports];
  const runs = new Map<string, ColdStartRun[]>(all.map((r) => [r.name, []]));
  const repetitions = pick(ctx, 1, 7);
  for (let rep = 0; rep < repetitions; rep++) {
    for (const r of rep % 2 === 0 ? all : [...all].reverse()) {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        ...ctx.functionEnv,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: r.name,
        POWERTOOLS_METRICS_NAMESPACE: 'MskServerlessEvents',
        POWERTOOLS_METRICS_DISABLED: 'false',
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_LAMBDA_FUNCTION_NAME: r.name,
        BARE_SCHEMA_ID: localSchemaVersionId('user_registered').replaceAll('-', ''),
        ...analyticsEnv,
      };
      runs.get(r.name)?.push(await coldStart(resolve(r.file), eventFiles[r.name] as string, env));
    }
  }
  const entry = (r: (typeof all)[number]): ColdStartEntry => {
    const list = runs.get(r.name) ?? [];
    const med = (k: keyof ColdStartRun) => round(median(list.map((x) => x[k])), 1);
    return {
      name: r.name,
      bytes: r.bytes,
      gzipBytes: r.gzipBytes,
      packages: packages(r.largestInputs),
      runs: list,
      median: {
        totalMs: med('totalMs'),
        bootMs: med('bootMs'),
        importMs: med('importMs'),
        invokeMs: med('invokeMs'),
        cpuMs: med('cpuMs'),
      },
    };
  };
  const baselines = baselineReports.map(entry);
  const functions = reports.map((r) => {
    const e = entry(r);
    const base = baselines.find((b) => b.name === BASELINE_OF[r.name] || b.name === `bare-${r.name}`);
    ctx.log(
      `  ${r.name}: ${(e.bytes / 1024).toFixed(0)} KB (${(e.gzipBytes / 1024).toFixed(1)} gzip), cold start ${e.median.totalMs} ms, CPU ${e.median.cpuMs} ms (import ${e.median.importMs}, first invocation ${e.median.invokeMs}) vs ${base?.name} ${((base?.bytes ?? 0) / 1024) | 0} KB, ${base?.median.totalMs} ms, CPU ${base?.median.cpuMs} ms`,
    );
    return {
      ...e,
      baseline: base?.name ?? '',
      ratios: {
        bytes: ratio(e.bytes, base?.bytes ?? Number.NaN),
        gzipBytes: ratio(e.gzipBytes, base?.gzipBytes ?? Number.NaN),
        coldStart: ratio(e.median.totalMs, base?.median.totalMs ?? Number.NaN),
        cpu: ratio(e.median.cpuMs, base?.median.cpuMs ?? Number.NaN),
      },
    };
  });
  for (const b of baselines)
    ctx.log(
      `  ${b.name}: ${(b.bytes / 1024).toFixed(0)} KB, ${b.median.totalMs} ms, CPU ${b.median.cpuMs} ms (boot ${b.median.bootMs}, import ${b.median.importMs}, first invocation ${b.median.invokeMs})`,
    );
  const producerGzipByPackage = await gzipByPackage(functionEntries(consumers).producer as string);
  ctx.log(
    `  producer, gzipped by package: ${producerGzipByPackage.map((p) => `${p.name} ${(p.gzipBytes / 1024).toFixed(1)} KB`).join(', ')}`,
  );
  return { repetitions, functions, baselines, producerGzipByPackage };
}
