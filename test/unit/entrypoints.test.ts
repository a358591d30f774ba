/**
 * Every function loads as Lambda and the local runtime load it: the TypeScript entry under plain
 * Node (tsx, no bundler interop to paper over CommonJS named exports), and the esbuild bundle CDK
 * deploys. Loading only: nothing connects to Kafka before the first invocation.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEntries } from '../../core/bundling';
import { consumers } from '../../core/topology';
import { type BundleReport, bundleAll } from '../../local/bundle';

const run = promisify(execFile);
const env = {
  ...process.env,
  KAFKA_BROKERS: '127.0.0.1:1',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
};
const entries = Object.entries(functionEntries(consumers));

async function exportsHandler(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, args, { env: { ...env, ...extraEnv }, timeout: 60_000 });
  return stdout.trim();
}

describe('function entry points', () => {
  it.each(entries)('%s loads under plain Node and exports handler', async (_, entry) => {
    const script = `import('./${entry}').then(m => console.log(typeof m.handler))`;
    expect(await exportsHandler(['--import', 'tsx', '-e', script])).toBe('function');
  });

  // Lambda sends the runtime SIGTERM only when an extension is registered, and these functions
  // register none (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown):
  // a SIGTERM handler would be code that never runs on AWS.
  it.each(entries)('%s registers no SIGTERM handler when loaded as in Lambda', async (_, entry) => {
    const script = `import('./${entry}').then(m => console.log(typeof m.handler, process.listenerCount('SIGTERM')))`;
    const lambdaEnv = { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', AWS_LAMBDA_FUNCTION_NAME: 'test' };
    expect(await exportsHandler(['--import', 'tsx', '-e', script], lambdaEnv)).toBe('function 0');
  });
});

describe('function bundles', () => {
  let dir: string;
  let reports: BundleReport[];
  let traced: BundleReport[];
  beforeAll(async () => {
    // Inside the project, so a bundle's external `@aws-sdk/*` imports resolve from node_modules as
    // they resolve from the runtime's own copy in Lambda (core/bundling.ts).
    await mkdir('.cache', { recursive: true });
    dir = await mkdtemp(join(resolve('.cache'), 'bundles-'));
    reports = await bundleAll(dir);
    traced = await bundleAll(join(dir, 'traced'), { tracer: true });
  }, 240_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(entries)('%s bundle loads under Node and exports handler', async (name) => {
    const report = reports.find((r) => r.name === name) as BundleReport;
    const script = `import(${JSON.stringify(`file://${resolve(report.file)}`)}).then(m => console.log(typeof m.handler))`;
    expect(await exportsHandler(['--input-type=module', '-e', script])).toBe('function');
    console.log(
      `${name}: ${(report.bytes / 1024).toFixed(1)} KB minified, ${(report.gzipBytes / 1024).toFixed(1)} KB gzip`,
    );
  });

  // Fault injection is test equipment: the resilience tests wrap the consumers' Kafka writer through
  // the local runtime (test/support/chaos-writer.ts), so no deployed function carries it.
  it.each(entries)('%s bundle holds no fault-injection or test code', async (name) => {
    const report = reports.find((r) => r.name === name) as BundleReport;
    const inputs = report.largestInputs.map((i) => i.path);
    expect(inputs.length).toBeGreaterThan(0);
    expect(inputs.filter((path) => /chaos|(^|\/)(test|local|bench)\//i.test(path))).toEqual([]);
    const code = await readFile(report.file, 'utf8');
    expect(code.match(/CHAOS|injected failure/gi) ?? []).toEqual([]);
  });

  // The `tracer` setting is a build input (core/bundling.ts): with it off (the default, `reports`), the
  // bundle holds no Tracer, X-Ray SDK or semver, and says so if the environment asks for tracing.
  it.each(entries)('%s bundle holds no Tracer when the tracer setting is off', async (name) => {
    const report = reports.find((r) => r.name === name) as BundleReport;
    const inputs = report.largestInputs.map((i) => i.path);
    expect(
      inputs.filter((path) => /aws-xray-sdk|powertools\/tracer|node_modules\/semver\//.test(path)),
    ).toEqual([]);
    expect(await loadsTracer(report, false)).toBe('function false');
    await expect(loadsTracer(report, true)).rejects.toThrow(
      /POWERTOOLS_TRACE_ENABLED is true but this function was built without Powertools Tracer/,
    );
  });

  it.each(entries)(
    '%s bundle built with the tracer setting on loads the Tracer when tracing is on, and only then',
    async (name) => {
      const report = traced.find((r) => r.name === name) as BundleReport;
      expect(report.largestInputs.some((i) => /aws-xray-sdk-core/.test(i.path))).toBe(true);
      expect(await loadsTracer(report, false)).toBe('function false');
      expect(await loadsTracer(report, true)).toBe('function true');
    },
  );
});

/** Loads a bundle; says whether it exported its handler and loaded the Tracer's X-Ray emitter. */
function loadsTracer(report: BundleReport, tracing: boolean): Promise<string> {
  // The Tracer's X-Ray emitter is what loads node:dgram (segments go to the X-Ray daemon over UDP);
  // nothing else in a function does at load (an AWS SDK client loads node:http, so that tells nothing).
  const script = `import(${JSON.stringify(`file://${resolve(report.file)}`)}).then(m => console.log(typeof m.handler, process.moduleLoadList.includes('NativeModule dgram')))`;
  return exportsHandler(['--input-type=module', '-e', script], { POWERTOOLS_TRACE_ENABLED: String(tracing) });
}
