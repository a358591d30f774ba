/**
 * `npm run bench`: the benchmark suite, against a real Kafka broker (an embedded Apache Kafka started
 * for the run, or KAFKA_BROKERS). Every figure is measured next to a baseline in the same run and
 * reported as a ratio, since absolute numbers drift on a shared machine. BENCHMARKS.md explains the
 * benchmarks, their baselines and how to read them.
 *
 * Writes bench/results/<timestamp>.json (every figure, its baseline, the machine), the chart
 * bench/results/<timestamp>.png (copied to bench/chart.png) and the results section of BENCHMARKS.md.
 *
 *   npm run bench                     the full suite (about 20 minutes on 2 cores)
 *   npm run bench -- --smoke          every benchmark briefly (under a minute; CI). Writes
 *                                     bench/results/<timestamp>-smoke.{json,md,png} only.
 *   npm run bench -- --only=producer,e2e
 *                                     some suites; writes <timestamp>-partial.* only.
 *
 * Suites: micro, cpu, cold-start, producer, http, consumer, scaling, e2e, analytics.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { functionEnvironment } from '../local/functions';
import { assertLambdaNodeMajor } from '../local/node-version';
import { renderChart } from './lib/chart';
import { buildWorkers } from './lib/child';
import type { SuiteContext } from './lib/context';
import { runSalt } from './lib/fixtures';
import { startCluster, warmUp } from './lib/kafka';
import { describeMachine, machineLine } from './lib/machine';
import { renderMarkdown, updateBenchmarksMd } from './lib/report';
import { type BenchResults, SUITES, type SuiteName } from './lib/results';
import { analyticsBench } from './suites/analytics';
import { coldStartSuite } from './suites/cold-start';
import { consumerPath, scaling } from './suites/consumer';
import { cpuPerRecord } from './suites/cpu';
import { endToEnd } from './suites/e2e';
import { httpPath } from './suites/http';
import { micro } from './suites/micro';
import { producerPath } from './suites/producer';

assertLambdaNodeMajor();

const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = onlyArg ? (onlyArg.split(',').filter(Boolean) as SuiteName[]) : undefined;
for (const name of only ?? []) {
  if (!SUITES.includes(name)) {
    console.error(`unknown suite "${name}"; suites: ${SUITES.join(', ')}`);
    process.exit(2);
  }
}
const started = performance.now();
const log = (line: string) =>
  console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

const runners: Partial<Record<SuiteName, (ctx: SuiteContext) => Promise<unknown>>> = {
  micro,
  cpu: cpuPerRecord,
  'cold-start': coldStartSuite,
  producer: producerPath,
  http: httpPath,
  consumer: consumerPath,
  scaling,
  e2e: endToEnd,
  analytics: analyticsBench,
};

async function main(): Promise<number> {
  log(`${smoke ? 'smoke run' : 'full run'}${only ? ` of ${only.join(', ')}` : ''}`);
  await buildWorkers();
  const cluster = await startCluster(log);
  const machine = describeMachine({ version: cluster.version, nodes: cluster.nodes });
  log(`machine: ${machineLine(machine)}`);
  const ctx: SuiteContext = {
    smoke,
    cluster,
    functionEnv: functionEnvironment(cluster.brokers),
    salt: runSalt(),
    log,
  };
  const warm = performance.now();
  await warmUp(cluster, ctx.salt, smoke ? 5000 : 50_000);
  log(`broker warmed up in ${((performance.now() - warm) / 1000).toFixed(1)} s`);
  const results: BenchResults = {
    date: new Date().toISOString(),
    smoke,
    suites: only ?? [...SUITES],
    durationSeconds: 0,
    machine,
  };
  const failed: string[] = [];
  try {
    for (const name of results.suites) {
      const run = runners[name];
      if (!run) continue;
      const t = performance.now();
      log(`== ${name}`);
      try {
        (results as unknown as Record<string, unknown>)[name] = await run(ctx);
      } catch (error) {
        failed.push(name);
        (results as unknown as Record<string, unknown>)[name] = { error: (error as Error).message };
        log(`${name} FAILED: ${(error as Error).stack ?? error}`);
      }
      log(`${name} took ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
  } finally {
    await cluster.stop();
  }
  results.durationSeconds = Math.round((performance.now() - started) / 1000);

  const stamp = results.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const suffix = smoke ? '-smoke' : only ? '-partial' : '';
  const dir = join('bench', 'results');
  await mkdir(dir, { recursive: true });
  const jsonFile = join(dir, `${stamp}${suffix}.json`);
  await writeFile(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${relative('.', jsonFile)}`);
  const pngFile = join(dir, `${stamp}${suffix}.png`);
  try {
    await writeFile(pngFile, await renderChart(results));
    log(`wrote ${relative('.', pngFile)}`);
  } catch (error) {
    failed.push('chart');
    log(`chart FAILED: ${(error as Error).stack ?? error}`);
  }
  if (smoke || only) {
    // Exercise the report; BENCHMARKS.md and bench/chart.png hold full runs only.
    const mdFile = join(dir, `${stamp}${suffix}.md`);
    await writeFile(mdFile, `${renderMarkdown(results, { json: jsonFile, chart: pngFile })}\n`);
    log(`wrote ${relative('.', mdFile)}`);
  } else {
    await copyFile(pngFile, join('bench', 'chart.png'));
    await updateBenchmarksMd(
      'BENCHMARKS.md',
      renderMarkdown(results, { json: relative('.', jsonFile), chart: 'bench/chart.png' }),
    );
    log('updated BENCHMARKS.md and bench/chart.png');
  }
  log(`done in ${results.durationSeconds} s${failed.length > 0 ? `; FAILED: ${failed.join(', ')}` : ''}`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`[bench] ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
