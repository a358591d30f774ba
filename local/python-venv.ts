/**
 * The project's Python tools (moto for the local DynamoDB endpoint and the tests' AWS stand-ins,
 * cfn-lint, schemathesis...), installed from requirements-dev.txt into .venv on first use, so
 * `npm start` and `npm test` work on a fresh clone. PyPI is reached through pip's own configuration.
 * One install at a time (./install-once.ts): test files and the runtime may ask at once.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { installOnce } from './install-once';

const run = promisify(execFile);

/** The virtualenv, in the project root. */
export const VENV = resolve('.venv');

/** Creates .venv if needed and installs requirements-dev.txt into it, unless `ready()` already. */
export function installRequirements(ready: () => boolean | Promise<boolean>): Promise<void> {
  return installOnce('python-venv', ready, async () => {
    process.stderr.write('[python] installing requirements-dev.txt into .venv (once)\n');
    if (!existsSync(join(VENV, 'bin', 'pip'))) await run('python3', ['-m', 'venv', VENV]);
    await run(join(VENV, 'bin', 'pip'), ['install', '--quiet', '-r', 'requirements-dev.txt'], {
      timeout: 600_000,
    });
  });
}

/** Path of a tool in .venv/bin, creating the virtualenv and installing requirements-dev.txt if needed. */
export async function pythonTool(name: string): Promise<string> {
  const tool = join(VENV, 'bin', name);
  if (existsSync(tool)) return tool;
  try {
    await installRequirements(() => existsSync(tool));
  } catch (error) {
    throw new Error(
      `could not install the Python tools into .venv (python3 -m venv; pip install -r requirements-dev.txt): ${(error as Error).message}`,
    );
  }
  if (!existsSync(tool)) throw new Error(`${name} is not in .venv/bin after installing requirements-dev.txt`);
  return tool;
}
