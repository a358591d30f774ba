/**
 * The PNG chart of a run: Vega-Lite specs rendered to SVG by Vega in Node (no browser, no canvas),
 * rasterised by resvg. Panels: throughput ratios against the bare clients, the consumer-path scaling
 * curves and peak RSS, end-to-end latency, cold start and bundle sizes, each with its goal drawn in.
 */
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { AnalyticsBenchResult } from '../suites/analytics';
import type { ColdStartResult } from '../suites/cold-start';
import type { ConsumerPathResult, ScalingResult } from '../suites/consumer';
import type { EndToEndResult } from '../suites/e2e';
import type { HttpPathResult } from '../suites/http';
import type { ProducerPathResult } from '../suites/producer';
import { machineLine } from './machine';
import { type BenchResults, ok } from './results';

type Spec = Record<string, unknown>;
const W = 380;
const H = 220;

function ratios(r: BenchResults): Spec | undefined {
  const rows: { figure: string; ratio: number; goal?: number }[] = [];
  const producer = ok<ProducerPathResult>(r.producer);
  for (const c of producer?.configs ?? [])
    rows.push({
      figure: `producer ${c.config.mode} c=${c.config.concurrency}`,
      ratio: c.ratio,
      ...(c.config.mode === 'batch' ? { goal: 0.8 } : {}),
    });
  const consumer = ok<ConsumerPathResult>(r.consumer);
  if (consumer) rows.push({ figure: 'consumer path', ratio: consumer.ratio, goal: 0.7 });
  const http = ok<HttpPathResult>(r.http);
  if (http) rows.push({ figure: 'HTTP max sustained rate', ratio: http.ratios.maxSustainedRate });
  const analytics = ok<AnalyticsBenchResult>(r.analytics);
  if (analytics) rows.push({ figure: 'analytics (DynamoDB)', ratio: analytics.ratio });
  if (rows.length === 0) return undefined;
  return {
    title: 'Throughput / bare clients (1 = as fast; tick = goal)',
    width: W,
    height: H,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: null, title: null },
          x: { field: 'ratio', type: 'quantitative', title: 'ratio' },
        },
      },
      {
        mark: { type: 'tick', color: '#e45756', thickness: 3 },
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: null },
          x: { field: 'goal', type: 'quantitative' },
        },
      },
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#555' }, encoding: { x: { datum: 1 } } },
    ],
  };
}

function scalingRows(r: BenchResults) {
  const s = ok<ScalingResult>(r.scaling);
  return (s?.points ?? []).flatMap((p) => [
    {
      partitions: `${p.partitions} partitions`,
      batchSize: p.batchSize,
      side: 'mapping + handler',
      rps: p.subject.recordsPerSecond,
      rss: p.subject.peakRssMb,
    },
    {
      partitions: `${p.partitions} partitions`,
      batchSize: p.batchSize,
      side: 'bare kafkajs',
      rps: p.baseline.recordsPerSecond,
      rss: p.baseline.peakRssMb,
    },
  ]);
}

function scaling(r: BenchResults, field: 'rps' | 'rss'): Spec | undefined {
  const rows = scalingRows(r);
  if (rows.length === 0) return undefined;
  return {
    title:
      field === 'rps'
        ? 'Consumer path: records/s by batch size'
        : 'Consumer path: peak RSS (MiB) by batch size',
    width: W,
    height: H,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'batchSize', type: 'quantitative', scale: { type: 'log' }, title: 'batch size' },
      y: { field, type: 'quantitative', title: field === 'rps' ? 'records/s' : 'peak RSS, MiB' },
      color: { field: 'partitions', type: 'nominal', title: null },
      strokeDash: { field: 'side', type: 'nominal', title: null },
      shape: { field: 'side', type: 'nominal', title: null },
    },
  };
}

function endToEnd(r: BenchResults): Spec | undefined {
  const e = ok<EndToEndResult>(r.e2e);
  if (!e) return undefined;
  const rows = (['p50Ms', 'p95Ms', 'p99Ms'] as const).flatMap((k) => [
    { percentile: k.slice(0, 3), side: 'local runtime', ms: e.subject.e2e[k] },
    { percentile: k.slice(0, 3), side: 'bare clients', ms: e.baseline.e2e[k] },
  ]);
  return {
    title: `End to end at ${e.rate}/s: POST → derived event read (ms; rule = goal)`,
    width: W,
    height: H,
    data: { values: rows },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'percentile', type: 'nominal', title: null },
          xOffset: { field: 'side' },
          y: { field: 'ms', type: 'quantitative', title: 'ms' },
          color: { field: 'side', type: 'nominal', title: null },
        },
      },
      { mark: { type: 'rule', color: '#e45756', strokeDash: [4, 4] }, encoding: { y: { datum: 50 } } },
    ],
  };
}

function coldStart(r: BenchResults, what: 'time' | 'size'): Spec | undefined {
  const c = ok<ColdStartResult>(r['cold-start']);
  if (!c) return undefined;
  const entries = [...c.functions, ...c.baselines.filter((b) => !b.name.startsWith('import-'))];
  if (what === 'size') {
    return {
      title: 'Bundle size, KB (rule = goal)',
      width: W,
      height: H,
      data: { values: entries.map((e) => ({ name: e.name, kb: Math.round(e.bytes / 1024) })) },
      layer: [
        {
          mark: { type: 'bar', color: '#72b7b2' },
          encoding: {
            y: { field: 'name', type: 'nominal', sort: null, title: null },
            x: { field: 'kb', type: 'quantitative', title: 'KB (minified)' },
          },
        },
        { mark: { type: 'rule', color: '#e45756', strokeDash: [4, 4] }, encoding: { x: { datum: 300 } } },
      ],
    };
  }
  const rows = entries.flatMap((e) => [
    { name: e.name, phase: '1 Node start', ms: e.median.bootMs },
    { name: e.name, phase: '2 import bundle', ms: e.median.importMs },
    { name: e.name, phase: '3 first invocation', ms: e.median.invokeMs },
    {
      name: e.name,
      phase: '4 process spawn, IPC',
      ms: Math.max(0, e.median.totalMs - e.median.bootMs - e.median.importMs - e.median.invokeMs),
    },
  ]);
  return {
    title: 'Cold start, ms: fresh process → first invocation served',
    width: W,
    height: H,
    data: { values: rows },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'name', type: 'nominal', sort: null, title: null },
          x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'ms (median)' },
          color: { field: 'phase', type: 'nominal', title: null },
          order: { field: 'phase' },
        },
      },
      { mark: { type: 'rule', color: '#e45756', strokeDash: [4, 4] }, encoding: { x: { datum: 150 } } },
    ],
  };
}

/** The chart of `results` as PNG bytes. */
export async function renderChart(results: BenchResults): Promise<Buffer> {
  const panels = [
    ratios(results),
    endToEnd(results),
    scaling(results, 'rps'),
    scaling(results, 'rss'),
    coldStart(results, 'time'),
    coldStart(results, 'size'),
  ].filter((p): p is Spec => p !== undefined);
  const rows: Spec[] = [];
  for (let i = 0; i < panels.length; i += 2) rows.push({ hconcat: panels.slice(i, i + 2) });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `npm run bench, ${results.date.slice(0, 16).replace('T', ' ')} UTC${results.smoke ? ' (smoke run: figures mean little)' : ''}`,
      subtitle: machineLine(results.machine),
    },
    background: 'white',
    padding: 16,
    config: { font: 'DejaVu Sans', legend: { orient: 'bottom', columns: 2 }, view: { stroke: '#ddd' } },
    vconcat: rows,
    resolve: { scale: { color: 'independent', strokeDash: 'independent', shape: 'independent' } },
  } as unknown as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return Buffer.from(
    new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 1.5 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    })
      .render()
      .asPng(),
  );
}
