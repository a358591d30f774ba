/**
 * `npm run bench`: micro-benchmarks of the code every record goes through, each next to a baseline
 * measured in the same run and reported as a ratio (absolute numbers drift on a shared machine).
 *
 * - Glue framing: `encode` + `decode` of an event's JSON, against the bare copy of the same bytes.
 * - Contract validation: `validateEvent` on a parsed event, against `JSON.parse` of that event.
 *
 * Writes bench/results/<timestamp>.json with the machine it ran on. `--smoke` runs each task briefly
 * (CI keeps the suite working with it; its numbers mean little).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { decode, encode } from '../lambdas/shared/glue-wire-format';
import { assertLambdaNodeMajor } from '../local/node-version';
import { eventExamples } from '../schemas/examples';
import { localSchemaVersionId } from '../schemas/registry';
import { compileAll, validateEvent } from '../schemas/validator';

assertLambdaNodeMajor();
const smoke = process.argv.includes('--smoke');
const time = smoke ? 50 : 1000;
const here = dirname(fileURLToPath(import.meta.url));

const event = eventExamples.order_created[0];
const json = Buffer.from(JSON.stringify(event));
const text = json.toString('utf8');
const parsed = JSON.parse(text);
const schemaVersionId = localSchemaVersionId('order_created');
const framedZlib = encode(schemaVersionId, json, { compression: 'zlib' });
compileAll();

interface Pair {
  readonly name: string;
  readonly baseline: { readonly name: string; readonly fn: () => unknown };
  readonly subject: { readonly name: string; readonly fn: () => unknown };
}

const pairs: Pair[] = [
  {
    name: 'Glue framing, no compression',
    baseline: { name: 'copy payload', fn: () => Buffer.from(json).subarray(0) },
    subject: { name: 'encode + decode', fn: () => decode(encode(schemaVersionId, json)).payload },
  },
  {
    name: 'Glue framing, zlib',
    baseline: { name: 'copy payload', fn: () => Buffer.from(json).subarray(0) },
    subject: { name: 'decode (inflate)', fn: () => decode(framedZlib).payload },
  },
  {
    name: 'contract validation',
    baseline: { name: 'JSON.parse', fn: () => JSON.parse(text) },
    subject: { name: 'validateEvent', fn: () => validateEvent(parsed) },
  },
];

const bench = new Bench({ time, warmupTime: smoke ? 10 : 200 });
for (const p of pairs) {
  bench.add(`${p.name} | baseline: ${p.baseline.name}`, p.baseline.fn);
  bench.add(`${p.name} | ${p.subject.name}`, p.subject.fn);
}
await bench.run();

const opsOf = (name: string) => {
  const task = bench.tasks.find((t) => t.name === name);
  const result = task?.result as
    | { throughput?: { mean: number }; latency?: { p50?: number; p99?: number } }
    | undefined;
  return {
    opsPerSecond: result?.throughput?.mean ?? 0,
    p50Ms: result?.latency?.p50 ?? 0,
    p99Ms: result?.latency?.p99 ?? 0,
  };
};

const results = pairs.map((p) => {
  const baseline = opsOf(`${p.name} | baseline: ${p.baseline.name}`);
  const subject = opsOf(`${p.name} | ${p.subject.name}`);
  return {
    benchmark: p.name,
    baseline: { name: p.baseline.name, ...baseline },
    subject: { name: p.subject.name, ...subject },
    // Subject throughput as a fraction of the baseline's (1 = as fast as the baseline).
    ratio: baseline.opsPerSecond > 0 ? subject.opsPerSecond / baseline.opsPerSecond : 0,
  };
});

const machine = {
  cores: availableParallelism(),
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
};
console.table(
  results.map((r) => ({
    benchmark: r.benchmark,
    baseline: `${r.baseline.name}: ${Math.round(r.baseline.opsPerSecond).toLocaleString('en')} op/s`,
    subject: `${r.subject.name}: ${Math.round(r.subject.opsPerSecond).toLocaleString('en')} op/s`,
    'ratio (subject/baseline)': r.ratio.toFixed(3),
  })),
);
const stamp = new Date().toISOString().replaceAll(':', '-');
const out = join(here, 'results', `${stamp}${smoke ? '-smoke' : ''}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), smoke, machine, payloadBytes: json.byteLength, results }, null, 2)}\n`,
);
console.log(`machine: ${JSON.stringify(machine)}\nwrote ${out}`);
