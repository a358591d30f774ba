/**
 * Micro-benchmarks of the code every record goes through, each next to a baseline: Glue framing
 * against a bare copy of the same bytes, contract validation against JSON.parse of the event.
 */
import { Bench } from 'tinybench';
import { decode, encode } from '../../core/glue-wire-format';
import { eventExamples } from '../../schemas/examples';
import { localSchemaVersionId } from '../../schemas/registry';
import { compileAll, validateEvent } from '../../schemas/validator';
import { pick, type SuiteContext } from '../lib/context';
import { ratio, round } from '../lib/stats';

export interface MicroRow {
  readonly benchmark: string;
  readonly baseline: { readonly name: string; readonly opsPerSecond: number };
  readonly subject: { readonly name: string; readonly opsPerSecond: number };
  /** Subject throughput as a fraction of the baseline's. */
  readonly ratio: number;
}

export interface MicroResult {
  readonly payloadBytes: number;
  readonly rows: MicroRow[];
}

export async function micro(ctx: SuiteContext): Promise<MicroResult> {
  const event = eventExamples.order_created[0];
  const json = Buffer.from(JSON.stringify(event));
  const text = json.toString('utf8');
  const parsed = JSON.parse(text);
  const schemaVersionId = localSchemaVersionId('order_created');
  const framedZlib = encode(schemaVersionId, json, { compression: 'zlib' });
  compileAll();
  const pairs = [
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
  const bench = new Bench({ time: pick(ctx, 50, 1000), warmupTime: pick(ctx, 10, 200) });
  for (const p of pairs) {
    bench.add(`${p.name} | baseline`, p.baseline.fn);
    bench.add(`${p.name} | subject`, p.subject.fn);
  }
  await bench.run();
  const ops = (name: string) => {
    const result = bench.tasks.find((t) => t.name === name)?.result as
      | { throughput?: { mean: number } }
      | undefined;
    return round(result?.throughput?.mean ?? 0, 0);
  };
  const rows = pairs.map((p) => {
    const b = ops(`${p.name} | baseline`);
    const s = ops(`${p.name} | subject`);
    return {
      benchmark: p.name,
      baseline: { name: p.baseline.name, opsPerSecond: b },
      subject: { name: p.subject.name, opsPerSecond: s },
      ratio: ratio(s, b),
    };
  });
  for (const r of rows) ctx.log(`  ${r.benchmark}: ×${r.ratio}`);
  return { payloadBytes: json.byteLength, rows };
}
