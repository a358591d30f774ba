/**
 * No secrets, account ids or machine-specific paths in the repository: every tracked file is scanned.
 * Account ids in documentation examples use AWS's documented placeholders only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** AWS's documentation placeholders, and the local runtime's all-zero account. */
// 012345678901: the placeholder of AWS's own published samples (aws-lambda-go's kafka-event.json,
// test/fixtures/aws).
const PLACEHOLDER_ACCOUNTS = new Set([
  '111122223333',
  '123456789012',
  '000000000000',
  '444455556666',
  '012345678901',
]);

const PATTERNS: { name: string; pattern: RegExp; allow?: (match: string) => boolean }[] = [
  { name: 'AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  {
    name: 'AWS secret access key assignment',
    pattern: /aws_secret_access_key\s*[=:]\s*['"]?[A-Za-z0-9/+]{40}/gi,
  },
  { name: 'private key', pattern: /-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/g },
  {
    name: 'LocalStack auth token value',
    pattern: /LOCALSTACK_AUTH_TOKEN\s*[=:]\s*['"]?(?!\$)[A-Za-z0-9-]{16,}/g,
  },
  {
    name: 'machine-specific path',
    pattern: /\/(?:root|home\/[a-z_][a-z0-9_-]*|work\/main|tmp\/ci-clone)\//g,
  },
  {
    name: 'AWS account id',
    pattern: /arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/g,
    allow: (match) => PLACEHOLDER_ACCOUNTS.has(/:(\d{12}):$/.exec(match)?.[1] ?? ''),
  },
];

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && !f.endsWith('package-lock.json') && !/\.(png|jpg|ico)$/.test(f));
}

describe('repository hygiene', () => {
  it('holds no secret, real account id or machine-specific path', () => {
    const findings: string[] = [];
    for (const file of trackedFiles()) {
      let text: string;
      try {
        if (statSync(file).size > 2_000_000) continue;
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      for (const { name, pattern, allow } of PATTERNS) {
        for (const match of text.matchAll(pattern)) {
          if (allow?.(match[0])) continue;
          if (file === 'test/unit/no-secrets.test.ts') continue;
          findings.push(`${file}: ${name}: ${match[0].slice(0, 60)}`);
        }
      }
    }
    expect(findings).toEqual([]);
  });
});
