/**
 * lambdas/shared/sha256.ts stands in for `@aws-crypto/sha256-js` in the bundles (core/bundling.ts,
 * BUNDLE_ALIASES): same digests, same HMACs, and the same MSK IAM token from the signer that uses it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ALIASES, esbuildOptions } from '../../core/bundling';
import { Sha256 } from '../../lambdas/shared/sha256';

type Data = string | Uint8Array | ArrayBuffer;
// The copy of @aws-crypto/sha256-js the MSK IAM signer uses (it is the signer's dependency, not ours).
const signerRequire = createRequire(createRequire(import.meta.url).resolve('aws-msk-iam-sasl-signer-js'));
const { Sha256: JsSha256 } = signerRequire('@aws-crypto/sha256-js') as { Sha256: typeof Sha256 };
const inputs: Data[][] = [
  [],
  [''],
  ['abc'],
  ['héllo wörld ✓'],
  [new Uint8Array([1, 2, 3]), 'and text', new Uint8Array(0)],
  [new Uint8Array(200).fill(7).buffer],
  [new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4)],
  ['x'.repeat(1000), 'y'.repeat(64)],
];
const secrets: (Data | undefined)[] = [undefined, '', 'key', new Uint8Array(100).fill(3), 'k'.repeat(64)];

async function digest(Hash: typeof Sha256 | typeof JsSha256, secret: Data | undefined, parts: Data[]) {
  const hash = new Hash(secret);
  for (const part of parts) hash.update(part);
  const first = Buffer.from(await hash.digest()).toString('hex');
  hash.reset();
  for (const part of parts) hash.update(part);
  return [first, Buffer.from(await hash.digest()).toString('hex')];
}

describe('Sha256 on node:crypto', () => {
  it('gives the digests and HMACs of @aws-crypto/sha256-js', async () => {
    for (const secret of secrets)
      for (const parts of inputs)
        expect(await digest(Sha256, secret, parts), JSON.stringify({ secret, parts })).toEqual(
          await digest(JsSha256, secret, parts),
        );
  });
});

describe('MSK IAM token with the bundles aliases', () => {
  let dir: string;
  beforeAll(async () => {
    await mkdir('.cache', { recursive: true });
    dir = await mkdtemp(join(resolve('.cache'), 'sha256-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The token the signer writes for fixed credentials at a fixed time, bundled with or without the alias. */
  async function token(aliased: boolean): Promise<{ token: string; inputs: string[] }> {
    const entry = join(dir, 'entry.mjs');
    await writeFile(
      entry,
      `import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
const Real = Date;
globalThis.Date = class extends Real { constructor(...a) { super(...(a.length ? a : [1796000000000])); } static now() { return 1796000000000; } };
const { token } = await generateAuthTokenFromCredentialsProvider({ region: 'eu-west-1',
  awsCredentialsProvider: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session' }) });
console.log(token);`,
    );
    const out = join(dir, aliased ? 'aliased.mjs' : 'plain.mjs');
    const options = esbuildOptions(entry, out);
    const result = await build({ ...options, alias: aliased ? options.alias : {}, sourcemap: false });
    const { execFileSync } = await import('node:child_process');
    return {
      token: execFileSync(process.execPath, [out], { encoding: 'utf8' }).trim(),
      inputs: Object.keys(result.metafile?.inputs ?? {}),
    };
  }

  it('is the one @aws-crypto/sha256-js gives, and the bundle holds no @aws-crypto/sha256-js', async () => {
    expect(Object.keys(BUNDLE_ALIASES)).toEqual(['@aws-crypto/sha256-js']);
    const [plain, aliased] = [await token(false), await token(true)];
    expect(plain.inputs.some((i) => i.includes('@aws-crypto/sha256-js'))).toBe(true);
    expect(aliased.inputs.filter((i) => i.includes('@aws-crypto/sha256-js'))).toEqual([]);
    expect(aliased.inputs.some((i) => i.endsWith('lambdas/shared/sha256.ts'))).toBe(true);
    expect(plain.token.length).toBeGreaterThan(100);
    expect(aliased.token).toBe(plain.token);
  });
});
