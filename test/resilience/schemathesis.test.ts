/**
 * Fuzzing the local API from its OpenAPI document with schemathesis (PyPI): thousands of generated
 * requests, valid and invalid, checked for server errors, undocumented status codes and content
 * types, responses that do not match the document, invalid data accepted and valid data refused.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime';
import { pythonTool } from '../support/python-tools';
import { freePort } from '../support/runtime-process';

const run = promisify(execFile);
const brokers = inject('kafkaBrokers');
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort() });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

describe('schemathesis', () => {
  it('finds no failure of any check against the OpenAPI document', async () => {
    const st = await pythonTool('schemathesis');
    const result = await run(
      st,
      [
        '--config-file',
        'test/resilience/schemathesis.toml',
        'run',
        'openapi.json',
        '--url',
        runtime.apiUrl,
        '--checks',
        'all',
        '--max-examples',
        '40',
        '--generation-deterministic',
        '--no-color',
      ],
      { timeout: 600_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
      failed: error.code,
    }));
    const output = `${result.stdout}\n${result.stderr}`;
    console.log(
      output
        .split('\n')
        .filter((l) => /generated|passed|failures|No issues/.test(l))
        .join('\n'),
    );
    expect(output).toMatch(/No issues found/);
    expect('failed' in result ? result.failed : 0).toBe(0);
  });
});
