/**
 * cfn-lint (PyPI, pinned in requirements-dev.txt) over every template the app synthesizes: dev, prod,
 * two variants that switch on the optional resources (API key and Cognito auth, Express brokers,
 * NAT, alarm topics), and the LocalStack target (`-c target=localstack`). Errors fail; warnings are CDK's own (W3005, redundant DependsOn) and are shown,
 * not counted.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT_VARIANTS, synthesizedApp } from '../support/cdk-deployments';
import { pythonTool } from '../support/python-tools';

const run = promisify(execFile);

/** The deployment shapes of test/support/cdk-deployments.ts, alarms mailed in the API-key one too. */
const variants = Object.fromEntries(
  Object.values(DEPLOYMENT_VARIANTS).map((context, i) => [
    `variant-${i}`,
    context.apiAuth === 'apiKey' ? { ...context, alarmEmail: 'ops@example.com' } : context,
  ]),
);

describe('cfn-lint', () => {
  let out: string;
  const templates: string[] = [];

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'cfn-lint-'));
    for (const [name, context] of Object.entries(variants)) {
      const outdir = join(out, name);
      synthesizedApp(context, { outdir });
      for (const file of await readdir(outdir))
        if (file.endsWith('.template.json')) templates.push(join(outdir, file));
    }
  }, 120_000);

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('finds no error in any synthesized template', async () => {
    expect(templates).toHaveLength(Object.keys(variants).length * 2);
    const cfnLint = await pythonTool('cfn-lint');
    const result = await run(cfnLint, ['--format', 'parseable', '--', ...templates], {
      maxBuffer: 16 << 20,
    }).then(
      ({ stdout }) => stdout,
      // cfn-lint exits non-zero on any finding (2 errors, 4 warnings, 8 informational, or-ed together):
      // its findings are on stdout either way, and only errors count here.
      (error: { stdout?: string }) => {
        if (!error.stdout) throw error;
        return error.stdout;
      },
    );
    const errors = result.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    // On a fresh clone this also waits for .venv to be installed (test/support/python-tools.ts).
  }, 780_000);

  it('puts no secret or account id of its own in any template', () => {
    // Only the placeholder account the variants above pass in may appear; everything else is a token.
    const allowed = new Set(['111122223333']);
    const findings: string[] = [];
    for (const file of templates) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----/g))
        findings.push(`${file}: ${m[0]}`);
      // Account ids sit in ARNs (arn:partition:service:region:account:...); everything else is a token.
      for (const m of text.matchAll(/arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12}):/g)) {
        if (!allowed.has(m[1] ?? '')) findings.push(`${file}: ${m[0]}`);
      }
      for (const m of text.matchAll(/"(?:Password|Secret[A-Za-z]*|ApiKey|Token)"\s*:\s*"[^"$]{8,}"/g))
        findings.push(`${file}: ${m[0]}`);
    }
    expect(findings).toEqual([]);
  });
});
