/**
 * One installer at a time for what the project sets up itself on a fresh clone (the Python tools'
 * .venv, which `npm start` needs for its DynamoDB endpoint, and a Chromium for the browser test).
 * Test files run in parallel workers, and two `npm test` or an `npm start` may run at once, so an install is guarded by a lock file created exclusively (`O_EXCL`) in
 * .cache/, holding the installer's pid. The others wait for it to go and check again before
 * installing; a lock left by a process that no longer runs is taken over.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface InstallOnceOptions {
  /** Directory of the lock files. @default .cache */
  readonly lockDir?: string;
  /** Give up waiting for another installer after this long. @default 900000 */
  readonly waitMs?: number;
  /** How often a waiting process checks the lock. @default 250 */
  readonly pollMs?: number;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Runs `install` unless `ready()` says it is not needed, in at most one process at a time: the lock
 * `<lockDir>/<name>.lock` is held while `install` runs; a process that finds it taken waits, then
 * asks `ready()` again. Resolves once `ready()` is true or this process's `install` has returned.
 */
export async function installOnce(
  name: string,
  ready: () => boolean | Promise<boolean>,
  install: () => Promise<void>,
  options: InstallOnceOptions = {},
): Promise<void> {
  const lockDir = resolve(options.lockDir ?? '.cache');
  const lock = join(lockDir, `${name}.lock`);
  const deadline = Date.now() + (options.waitMs ?? 900_000);
  await mkdir(lockDir, { recursive: true });
  for (;;) {
    if (await ready()) return;
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (handle) {
      try {
        await handle.writeFile(String(process.pid));
        await handle.close();
        if (!(await ready())) await install();
        return;
      } finally {
        await unlink(lock).catch(() => {});
      }
    }
    const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      // Its installer died (killed test run): take over.
      await unlink(lock).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `waited ${options.waitMs ?? 900_000} ms for another process (pid ${owner || 'unknown'}) to finish installing ${name}; remove ${lock} if no install is running`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
