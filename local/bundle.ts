/**
 * Builds every function as CDK deploys it (core/bundling.ts), for the local runtime's `--bundles` mode
 * and `npm run bundle` (scripts/bundle.ts).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build as esbuild } from 'esbuild';
import { esbuildOptions, type FunctionBuild, functionEntries } from '../core/bundling';
import { consumers } from '../core/topology';

export const BUNDLE_BUDGET_BYTES = 300 * 1024;

export interface BundleReport {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  /** Size gzip-compressed, close to what the deployment zip holds. */
  readonly gzipBytes: number;
  readonly largestInputs: { path: string; bytes: number }[];
}

/**
 * Builds every function; returns what each weighs. With the Tracer off (the `tracer` setting's
 * default) as deployed by default, unless `build.tracer` says otherwise.
 */
export async function bundleAll(
  outDir = join('.cache', 'bundles'),
  build: FunctionBuild = {},
): Promise<BundleReport[]> {
  const reports: BundleReport[] = [];
  for (const [name, entry] of Object.entries(functionEntries(consumers))) {
    const file = join(outDir, name, 'index.mjs');
    await mkdir(join(outDir, name), { recursive: true });
    const result = await esbuild(esbuildOptions(entry, file, build));
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
