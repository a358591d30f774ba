/**
 * `npm run bundle`: builds every function as CDK deploys it (lib/bundling.ts) into .cache/bundles/
 * and prints each bundle's size and its largest inputs, and which exceed the 300 KB goal.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { consumers } from '../core/topology';
import { esbuildOptions, functionEntries } from '../lib/bundling';

export const BUNDLE_BUDGET_BYTES = 300 * 1024;

export interface BundleReport {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  /** Size gzip-compressed, close to what the deployment zip holds. */
  readonly gzipBytes: number;
  readonly largestInputs: { path: string; bytes: number }[];
}

/** Builds every function; returns what each weighs. */
export async function bundleAll(outDir = join('.cache', 'bundles')): Promise<BundleReport[]> {
  const reports: BundleReport[] = [];
  for (const [name, entry] of Object.entries(functionEntries(consumers))) {
    const file = join(outDir, name, 'index.mjs');
    await mkdir(join(outDir, name), { recursive: true });
    const result = await build(esbuildOptions(entry, file));
    // Metafile keys are relative to the working directory.
    const output = Object.entries(result.metafile?.outputs ?? {}).find(
      ([k]) => resolve(k) === resolve(file),
    )?.[1];
    const inputs = Object.entries(output?.inputs ?? {})
      .map(([path, v]) => ({ path, bytes: v.bytesInOutput }))
      .sort((a, b) => b.bytes - a.bytes);
    const code = await readFile(file);
    reports.push({
      name,
      file,
      bytes: code.byteLength,
      gzipBytes: gzipSync(code).byteLength,
      largestInputs: inputs,
    });
  }
  return reports;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const reports = await bundleAll();
  const byPackage = (path: string) =>
    /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(this project)';
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  for (const r of reports) {
    const packages = new Map<string, number>();
    for (const i of r.largestInputs)
      packages.set(byPackage(i.path), (packages.get(byPackage(i.path)) ?? 0) + i.bytes);
    const top = [...packages].sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(
      `${r.name.padEnd(18)} ${kb(r.bytes).padStart(9)} minified, ${kb(r.gzipBytes).padStart(8)} gzip  (${top.map(([p, n]) => `${p} ${kb(n)}`).join(', ')})`,
    );
  }
  const over = reports.filter((r) => r.bytes > BUNDLE_BUDGET_BYTES);
  if (over.length > 0) {
    // A report, not a gate: README ("Bundle sizes") says why the functions exceed the goal.
    console.log(
      `over the ${BUNDLE_BUDGET_BYTES / 1024} KB goal: ${over.map((r) => r.name).join(', ')} (see README, "Bundle sizes")`,
    );
  }
}
