/**
 * The Markdown of a run: the goals of issue 16 with what was measured, then one table per benchmark,
 * every figure next to its baseline and the ratio. `npm run bench` puts it between the markers of
 * BENCHMARKS.md; the text around the markers is written by hand.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { AnalyticsBenchResult } from '../suites/analytics';
import type { ColdStartResult } from '../suites/cold-start';
import { BUNDLE_GOAL_GZIP_BYTES, COLD_START_GOAL_RATIO } from '../suites/cold-start';
import type { ConsumerPathResult, ScalingResult } from '../suites/consumer';
import type { CpuPerRecordResult } from '../suites/cpu';
import type { EndToEndResult } from '../suites/e2e';
import type { HttpPathResult } from '../suites/http';
import type { MicroResult } from '../suites/micro';
import type { ProducerPathResult } from '../suites/producer';
import { machineLine } from './machine';
import type { ProfileSummary } from './profile';
import { type BenchResults, ok, type SuiteError } from './results';

const BEGIN = '<!-- bench:results:begin (written by npm run bench; edit the text outside) -->';
const END = '<!-- bench:results:end -->';

export interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly baseline: string;
  readonly met: boolean;
}

const n = (v: number, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
const x = (v: number) => (Number.isFinite(v) ? `×${v.toFixed(2)}` : '–');
const kb = (bytes: number) => `${n(bytes / 1024)} KB`;

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The goals of issue 16 (performance, round two), measured. */
function goals(r: BenchResults): Goal[] {
  const out: Goal[] = [];
  const producer = ok<ProducerPathResult>(r.producer);
  for (const c of producer?.configs.filter((c) => c.config.mode === 'batch') ?? []) {
    out.push({
      goal: `Producer, batches of 100, concurrency ${c.config.concurrency}: ≥ 0.8 × bare kafkajs`,
      measured: `${n(c.subject.eventsPerSecond)} events/s (${x(c.ratio)})`,
      baseline: `${n(c.baseline.eventsPerSecond)} events/s`,
      met: c.ratio >= 0.8,
    });
  }
  const cpu = ok<CpuPerRecordResult>(r.cpu);
  if (cpu)
    for (const [k, what, limit] of [
      [cpu.whole, 'Handler logic (processBatch, no I/O), CPU per record', 0.8],
      [cpu.read, 'Decode + validate, CPU per record', 0.7],
    ] as const)
      out.push({
        goal: `${what}: ≤ ${x(limit)} of Powertools kafkaConsumer + Zod`,
        measured: `${n(k.subject.usPerRecord, 1)} µs (${x(k.ratio)})`,
        baseline: `${n(k.baseline.usPerRecord, 1)} µs`,
        met: k.ratio <= limit,
      });
  const consumer = ok<ConsumerPathResult>(r.consumer);
  if (consumer) {
    out.push({
      goal: 'Consumer path (local mapping + handler): ≥ ×0.8 of bare kafkajs consumer',
      measured: `${n(consumer.subject.recordsPerSecond)} records/s (${x(consumer.ratio)})`,
      baseline: `${n(consumer.baseline.recordsPerSecond)} records/s`,
      met: consumer.ratio >= 0.8,
    });
    const rss = consumer.subject.peakRssMb / consumer.baseline.peakRssMb;
    out.push({
      goal: 'Consumer path, peak RSS: ≤ ×1.2 of bare kafkajs consumer',
      measured: `${n(consumer.subject.peakRssMb)} MiB (${x(rss)})`,
      baseline: `${n(consumer.baseline.peakRssMb)} MiB`,
      met: rss <= 1.2,
    });
  }
  const e2e = ok<EndToEndResult>(r.e2e);
  if (e2e)
    out.push({
      goal: `End to end at ${e2e.rate}/s, window 0: p99 ≤ ×1.10 of bare`,
      measured: `p99 ${n(e2e.subject.e2e.p99Ms, 1)} ms (${x(e2e.ratios.p99)})`,
      baseline: `p99 ${n(e2e.baseline.e2e.p99Ms, 1)} ms`,
      met: e2e.ratios.p99 <= 1.1,
    });
  const cold = ok<ColdStartResult>(r['cold-start']);
  for (const f of cold?.functions ?? []) {
    const base = cold?.baselines.find((b) => b.name === f.baseline);
    out.push({
      goal: `${f.name} bundle ≤ ${kb(BUNDLE_GOAL_GZIP_BYTES)} gzipped`,
      measured: `${kb(f.gzipBytes)} (${x(f.ratios.gzipBytes)})`,
      baseline: `${f.baseline} ${kb(base?.gzipBytes ?? Number.NaN)}`,
      met: f.gzipBytes <= BUNDLE_GOAL_GZIP_BYTES,
    });
    out.push({
      goal: `${f.name} cold start ≤ ${x(COLD_START_GOAL_RATIO)} of its baseline`,
      measured: `${n(f.median.totalMs)} ms (${x(f.ratios.coldStart)}); CPU ${n(f.median.cpuMs)} ms (${x(f.ratios.cpu)})`,
      baseline: `${f.baseline} ${n(base?.median.totalMs ?? Number.NaN)} ms; CPU ${n(base?.median.cpuMs ?? Number.NaN)} ms`,
      met: f.ratios.coldStart <= COLD_START_GOAL_RATIO,
    });
  }
  return out;
}

function failed(name: string, value: unknown): string | undefined {
  if (value === undefined) return `_${name}: not run._`;
  if (typeof value === 'object' && value !== null && 'error' in value)
    return `_${name} failed: ${(value as SuiteError).error.split('\n')[0]}_`;
  return undefined;
}

function profileLines(p: ProfileSummary | undefined): string {
  if (!p) return '';
  const list = (shares: readonly { name: string; pct: number }[], count: number) =>
    shares
      .slice(0, count)
      .map((s) => `${s.name} ${s.pct} %`)
      .join('; ');
  return [
    `Profile \`${p.label}\` (${n(p.sampledMs)} ms sampled, raw profile \`${p.file}\`): idle ${p.idlePct} %, GC ${p.gcPct} %.`,
    `- by package: ${list(p.byPackage, 8)}`,
    `- self time: ${list(p.selfTop, 8)}`,
    `- inclusive, our functions: ${list(p.inclusiveOwn, 10)}`,
  ].join('\n');
}

function producerSection(r: BenchResults): string {
  const p = ok<ProducerPathResult>(r.producer);
  if (!p) return failed('producer', r.producer) ?? '';
  return [
    table(
      [
        'Events per request',
        'Concurrency',
        'Handler events/s',
        'Bare events/s',
        'Ratio',
        'Handler p50 / p99 ms',
        'Bare p50 / p99 ms',
        'Requests per send',
      ],
      p.configs.map((c) => [
        c.config.mode === 'batch' ? '100 (batch)' : '1',
        String(c.config.concurrency),
        n(c.subject.eventsPerSecond),
        n(c.baseline.eventsPerSecond),
        x(c.ratio),
        `${n(c.subject.latency.p50Ms, 1)} / ${n(c.subject.latency.p99Ms, 1)}`,
        `${n(c.baseline.latency.p50Ms, 1)} / ${n(c.baseline.latency.p99Ms, 1)}`,
        n(c.requestsPerSend, 1),
      ]),
    ),
    '',
    "Requests per send: the handler's requests carried by each Kafka produce request (the local runtime's coalescing writer, local/coalescing-writer.ts, merges the requests queued behind an in-flight send).",
    '',
    ...p.profiles.map(profileLines),
  ].join('\n');
}

function httpSection(r: BenchResults): string {
  const h = ok<HttpPathResult>(r.http);
  if (!h) return failed('http', r.http) ?? '';
  const row = (name: string, s: HttpPathResult['subject']) => [
    name,
    n(s.fixedRate.p50Ms, 1),
    n(s.fixedRate.p99Ms, 1),
    `${n(s.maxSustainedRate)}/s`,
    s.ladder.map((l) => `${l.rate}${l.sustained ? '✓' : '✗'}`).join(' '),
    `${n(s.server.peakRssMb)} MiB`,
  ];
  return [
    table(
      [
        'Server',
        `p50 ms at ${h.fixedRate}/s`,
        `p99 ms at ${h.fixedRate}/s`,
        'Highest rate sustained',
        'Rates tried',
        'Peak RSS',
      ],
      [
        row('local API + producer function', h.subject),
        row('bare node:http + kafkajs', h.baseline),
        ['ratio', x(h.ratios.p50), x(h.ratios.p99), x(h.ratios.maxSustainedRate), '', ''],
      ],
    ),
  ].join('\n');
}

function consumerSection(r: BenchResults): string {
  const c = ok<ConsumerPathResult>(r.consumer);
  if (!c) return failed('consumer', r.consumer) ?? '';
  return [
    table(
      ['Consumer', 'Records/s (mean of runs)', 'Runs', 'Peak RSS'],
      [
        [
          'local mapping + user-consumer handler',
          n(c.subject.recordsPerSecond),
          c.runs.subject.map((s) => n(s.recordsPerSecond)).join(', '),
          `${n(c.subject.peakRssMb)} MiB`,
        ],
        [
          'bare kafkajs (eachBatch)',
          n(c.baseline.recordsPerSecond),
          c.runs.baseline.map((s) => n(s.recordsPerSecond)).join(', '),
          `${n(c.baseline.peakRssMb)} MiB`,
        ],
        ['ratio', x(c.ratio), '', x(c.subject.peakRssMb / c.baseline.peakRssMb)],
      ],
    ),
    '',
    `${n(c.records)} records on ${c.partitions} partitions, batch size ${c.batchSize}, window 0.`,
    '',
    profileLines(c.profile),
  ].join('\n');
}

function cpuSection(r: BenchResults): string {
  const c = ok<CpuPerRecordResult>(r.cpu);
  if (!c) return failed('cpu', r.cpu) ?? '';
  return [
    table(
      ['What', 'Ours', 'µs/record', 'Baseline', 'µs/record', 'Ratio (CPU time)'],
      [c.read, c.whole].map((k, i) => [
        i === 0 ? 'read + validate' : 'whole consumer logic',
        k.subject.name,
        n(k.subject.usPerRecord, 1),
        k.baseline.name,
        n(k.baseline.usPerRecord, 1),
        x(k.ratio),
      ]),
    ),
    '',
    `Batches of ${c.batchSize} records; below ×1 is cheaper than the baseline.`,
    '',
    profileLines(c.profile),
  ].join('\n');
}

function e2eSection(r: BenchResults): string {
  const e = ok<EndToEndResult>(r.e2e);
  if (!e) return failed('e2e', r.e2e) ?? '';
  const row = (name: string, s: EndToEndResult['subject']) => [
    name,
    n(s.e2e.p50Ms, 1),
    n(s.e2e.p95Ms, 1),
    n(s.e2e.p99Ms, 1),
    n(s.e2e.maxMs, 1),
    `${n(s.delivered)} / ${n(s.sent)}`,
    n(s.http.p99Ms, 1),
  ];
  return [
    table(
      ['Pipeline', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'Delivered', 'HTTP p99 ms'],
      [
        row('local runtime (API, mappings, handlers)', e.subject),
        row('bare node:http + kafkajs', e.baseline),
        ['ratio', x(e.ratios.p50), x(e.ratios.p95), x(e.ratios.p99), '', '', ''],
      ],
    ),
    '',
    `${e.rate} events/s for ${e.durationSeconds} s, batching window 0.`,
  ].join('\n');
}

function coldSection(r: BenchResults): string {
  const c = ok<ColdStartResult>(r['cold-start']);
  if (!c) return failed('cold-start', r['cold-start']) ?? '';
  const phases = (e: ColdStartResult['baselines'][number]) =>
    `${n(e.median.bootMs)} / ${n(e.median.importMs)} / ${n(e.median.invokeMs)}`;
  const main = table(
    [
      'Function',
      'Bundle',
      'gzip',
      'Cold start ms',
      'Node / import / 1st invocation ms',
      'CPU ms',
      'Baseline',
      'Size ratio (gzip)',
      'Cold start ratio',
      'CPU ratio',
    ],
    [
      ...c.functions.map((f) => [
        f.name,
        kb(f.bytes),
        kb(f.gzipBytes),
        n(f.median.totalMs),
        phases(f),
        n(f.median.cpuMs),
        f.baseline,
        x(f.ratios.gzipBytes),
        x(f.ratios.coldStart),
        x(f.ratios.cpu),
      ]),
      ...c.baselines
        .filter((b) => !b.name.startsWith('import-'))
        .map((b) => [
          `_${b.name}_`,
          kb(b.bytes),
          kb(b.gzipBytes),
          n(b.median.totalMs),
          phases(b),
          n(b.median.cpuMs),
          '',
          '',
          '',
          '',
        ]),
    ],
  );
  const empty = c.baselines.find((b) => b.name === 'empty');
  const attribution = table(
    ['Imported alone', 'Bundle', 'Import ms', 'Import ms over the empty handler', '1st invocation ms'],
    c.baselines
      .filter((b) => b.name.startsWith('import-'))
      .map((b) => [
        b.name.slice('import-'.length),
        kb(b.bytes),
        n(b.median.importMs),
        n(b.median.importMs - (empty?.median.importMs ?? 0)),
        n(b.median.invokeMs),
      ]),
  );
  const producer = c.functions.find((f) => f.name === 'producer');
  return [
    main,
    '',
    `Medians of ${c.repetitions} fresh processes each.`,
    '',
    'Where the import time goes (each dependency group bundled alone, same settings):',
    '',
    attribution,
    '',
    producer
      ? `Largest packages in the producer bundle: ${producer.packages.map((p) => `${p.name} ${kb(p.bytes)}`).join(', ')}.`
      : '',
    '',
    c.producerGzipByPackage?.length
      ? `What each adds to the producer's gzipped bundle (${kb(producer?.gzipBytes ?? Number.NaN)}; the bundle without that package's modules is that much smaller): ${c.producerGzipByPackage.map((p) => `${p.name} ${kb(p.gzipBytes)}`).join(', ')}.`
      : '',
  ].join('\n');
}

function scalingSection(r: BenchResults): string {
  const s = ok<ScalingResult>(r.scaling);
  if (!s) return failed('scaling', r.scaling) ?? '';
  return [
    table(
      [
        'Partitions',
        'Batch size',
        'Mapping + handler records/s',
        'Bare records/s',
        'Ratio',
        'Peak RSS (mapping / bare)',
      ],
      s.points.map((p) => [
        String(p.partitions),
        String(p.batchSize),
        n(p.subject.recordsPerSecond),
        n(p.baseline.recordsPerSecond),
        x(p.ratio),
        `${n(p.subject.peakRssMb)} / ${n(p.baseline.peakRssMb)} MiB`,
      ]),
    ),
    '',
    `Each point: a fresh process and consumer group, for at most ${s.timeLimitSeconds} s or until the topic is read.`,
  ].join('\n');
}

function analyticsSection(r: BenchResults): string {
  const a = ok<AnalyticsBenchResult>(r.analytics);
  if (!a) return failed('analytics', r.analytics) ?? '';
  const row = (
    name: string,
    s: AnalyticsBenchResult['subject'],
    list: readonly { recordsPerSecond: number }[],
  ) => [
    name,
    n(s.recordsPerSecond),
    list.map((run) => n(run.recordsPerSecond)).join(', '),
    n(s.cpuUsPerRecord),
    n(s.transactionsPerBatch, 2),
    `${n(s.peakRssMb)} MiB`,
  ];
  return [
    table(
      ['Writer', 'Records/s (mean of runs)', 'Runs', 'CPU µs/record', 'Transactions per batch', 'Peak RSS'],
      [
        row('analytics function (createHandler, DynamoDB store)', a.subject, a.runs.subject),
        row('bare TransactWriteItems loop', a.baseline, a.runs.baseline),
        ['ratio', x(a.ratio), '', x(a.cpuRatio), '', x(a.subject.peakRssMb / a.baseline.peakRssMb)],
      ],
    ),
    '',
    `${n(a.records)} records in batches of ${a.batchSize} (topics in turn), on ${a.days} UTC days, one batch at a time, into a fresh table per run, on ${a.endpoint === 'moto' ? "moto's server" : 'DYNAMODB_ENDPOINT'}. CPU µs/record: the worker process's own CPU time (moto's is not in it). No goal: reported only.`,
  ].join('\n');
}

function microSection(r: BenchResults): string {
  const m = ok<MicroResult>(r.micro);
  if (!m) return failed('micro', r.micro) ?? '';
  return table(
    ['Benchmark', 'Ours', 'op/s', 'Baseline', 'op/s', 'Ratio'],
    m.rows.map((row) => [
      row.benchmark,
      row.subject.name,
      n(row.subject.opsPerSecond),
      row.baseline.name,
      n(row.baseline.opsPerSecond),
      x(row.ratio),
    ]),
  );
}

/** The generated part of BENCHMARKS.md for `results` (`json` and `chart`: paths to link). */
export function renderMarkdown(r: BenchResults, files: { json: string; chart: string }): string {
  const g = goals(r);
  return [
    `Run of ${r.date.slice(0, 19).replace('T', ' ')} UTC, ${n(r.durationSeconds)} s${r.smoke ? ' — **smoke run, figures mean little**' : ''}. Machine: ${machineLine(r.machine)}; load average ${r.machine.loadAverageAtStart} at the start; commit ${r.machine.commit}. Results: [\`${files.json}\`](${files.json}).`,
    '',
    `![Benchmark chart](${files.chart})`,
    '',
    '### Goals',
    '',
    table(
      ['Goal', 'Measured (ratio to baseline)', 'Baseline', 'Met'],
      g.map((goal) => [goal.goal, goal.measured, goal.baseline, goal.met ? 'yes' : '**no**']),
    ),
    '',
    '### 1. Producer path (handler vs bare kafkajs producer)',
    '',
    producerSection(r),
    '',
    '### 2. HTTP path (local API vs bare node:http + kafkajs, autocannon)',
    '',
    httpSection(r),
    '',
    '### 3. Consumer path (local mapping + handler vs bare kafkajs consumer)',
    '',
    consumerSection(r),
    '',
    "### 4. CPU per record, no I/O (ours vs Powertools' kafkaConsumer)",
    '',
    cpuSection(r),
    '',
    '### 5. End to end (POST → derived event readable)',
    '',
    e2eSection(r),
    '',
    '### 6. Cold start and bundle size',
    '',
    coldSection(r),
    '',
    '### 7. Scaling: partitions × batch size, and peak RSS',
    '',
    scalingSection(r),
    '',
    '### 8. Analytics (function vs bare TransactWriteItems, on moto)',
    '',
    analyticsSection(r),
    '',
    '### Micro-benchmarks',
    '',
    microSection(r),
  ].join('\n');
}

/** Replaces the generated block of `file` (creating the file or the markers if missing). */
export async function updateBenchmarksMd(file: string, block: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text = '# Benchmarks\n\nRun `npm run bench`.\n\n## Results\n\n';
  }
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const generated = `${BEGIN}\n\n${block}\n\n${END}`;
  const next =
    start === -1 || end === -1
      ? `${text.trimEnd()}\n\n${generated}\n`
      : `${text.slice(0, start)}${generated}${text.slice(end + END.length)}`;
  await writeFile(file, next);
}
