/**
 * Finding the browser for the browser test, and installing it once when the system can: on fake
 * PATHs of real directories with real executables (a shell script stands in for apt-get).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installOnce } from '../../local/install-once';
import { APT_INSTALL, ensureChromium, findChromium } from '../support/chromium';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'chromium-test-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function executable(path: string, body = 'exit 0'): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('findChromium', () => {
  it('finds chromium, chromium-browser or google-chrome(-stable) on PATH, in that order', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const chrome = await executable(join(a, 'google-chrome'));
    const env = { PATH: [join(root, 'missing'), a, b].join(delimiter) };
    expect(findChromium({ env, known: [] })).toBe(chrome);
    const chromium = await executable(join(b, 'chromium'));
    expect(findChromium({ env, known: [] })).toBe(chromium);
  });

  it('skips files that are not executable, and directories', async () => {
    const dir = join(root, 'bin');
    await mkdir(join(dir, 'chromium'), { recursive: true });
    await writeFile(join(dir, 'chromium-browser'), 'not a program');
    expect(findChromium({ env: { PATH: dir }, known: [] })).toBeUndefined();
  });

  it('falls back to the known install locations', async () => {
    const known = await executable(join(root, 'opt', 'google', 'chrome', 'chrome'));
    expect(findChromium({ env: { PATH: '' }, known: [join(root, 'nowhere'), known] })).toBe(known);
  });

  it('takes CHROMIUM_PATH first, and says so when it is not an executable', async () => {
    const named = await executable(join(root, 'my-chrome'));
    await executable(join(root, 'bin', 'chromium'));
    expect(findChromium({ env: { PATH: join(root, 'bin'), CHROMIUM_PATH: named }, known: [] })).toBe(named);
    expect(() => findChromium({ env: { CHROMIUM_PATH: join(root, 'absent') }, known: [] })).toThrow(
      /CHROMIUM_PATH=.*absent is not an executable file/,
    );
  });
});

describe('ensureChromium', () => {
  it('returns the browser found without installing anything', async () => {
    const chromium = await executable(join(root, 'bin', 'chromium'));
    const aptLog = join(root, 'apt.log');
    await executable(join(root, 'bin', 'apt-get'), `echo "$@" >> ${aptLog}`);
    const lines: string[] = [];
    const env = { PATH: join(root, 'bin') };
    expect(
      await ensureChromium({ env, known: [], isRoot: true, log: (l) => lines.push(l), lockDir: root }),
    ).toBe(chromium);
    expect(lines).toEqual([]);
    await expect(readFile(aptLog, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('as root with apt-get: installs chromium once for concurrent callers, and says so', async () => {
    const bin = join(root, 'bin');
    const aptLog = join(root, 'apt.log');
    // A stand-in for apt-get: records its arguments; `install` takes a while, then puts chromium on PATH.
    await executable(
      join(bin, 'apt-get'),
      [
        'PATH=/usr/bin:/bin',
        `echo "$* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> ${aptLog}`,
        'if [ "$1" = install ]; then',
        '  sleep 0.3',
        `  printf '#!/bin/sh\\n' > ${join(bin, 'chromium')}`,
        `  chmod 755 ${join(bin, 'chromium')}`,
        'fi',
      ].join('\n'),
    );
    const lines: string[] = [];
    const options = {
      env: { PATH: bin },
      known: [],
      isRoot: true,
      log: (l: string) => lines.push(l),
      lockDir: root,
    };
    const found = await Promise.all([
      ensureChromium(options),
      ensureChromium(options),
      ensureChromium(options),
    ]);
    expect(found).toEqual([join(bin, 'chromium'), join(bin, 'chromium'), join(bin, 'chromium')]);
    expect((await readFile(aptLog, 'utf8')).trim().split('\n')).toEqual([
      'update DEBIAN_FRONTEND=noninteractive',
      'install -y chromium DEBIAN_FRONTEND=noninteractive',
    ]);
    expect(lines).toEqual([
      `no Chromium or Chrome found; installing Debian's chromium package (once): ${APT_INSTALL}`,
      `installed ${join(bin, 'chromium')}`,
    ]);
  });

  it('reports a failed install with the command and apt-get’s words', async () => {
    const bin = join(root, 'bin');
    await executable(join(bin, 'apt-get'), 'echo "E: Unable to locate package chromium" >&2; exit 100');
    await expect(
      ensureChromium({ env: { PATH: bin }, known: [], isRoot: true, log: () => {}, lockDir: root }),
    ).rejects.toThrow(
      /installing Chromium failed \(apt-get update && apt-get install -y chromium\): E: Unable to locate/,
    );
  });

  it('not root: fails with the command to run, installing nothing', async () => {
    const bin = join(root, 'bin');
    const aptLog = join(root, 'apt.log');
    await executable(join(bin, 'apt-get'), `echo "$@" >> ${aptLog}`);
    await expect(
      ensureChromium({ env: { PATH: bin }, known: [], isRoot: false, log: () => {}, lockDir: root }),
    ).rejects.toThrow('Install it with: sudo apt-get update && sudo apt-get install -y chromium');
    await expect(readFile(aptLog, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('no apt-get: fails saying what to install and CHROMIUM_PATH', async () => {
    await expect(
      ensureChromium({
        env: { PATH: join(root, 'bin') },
        known: [],
        isRoot: true,
        log: () => {},
        lockDir: root,
      }),
    ).rejects.toThrow(
      /no Chromium or Chrome found \(looked for chromium, chromium-browser, google-chrome-stable, google-chrome on PATH.*set CHROMIUM_PATH/,
    );
  });
});

describe('installOnce', () => {
  it('runs one install for concurrent callers; the others wait and find it done', async () => {
    let installs = 0;
    let done = false;
    const install = async () => {
      installs++;
      await new Promise((r) => setTimeout(r, 200));
      done = true;
    };
    await Promise.all(
      Array.from({ length: 4 }, () =>
        installOnce('thing', () => done, install, { lockDir: root, pollMs: 20 }),
      ),
    );
    expect(installs).toBe(1);
    await expect(readFile(join(root, 'thing.lock'))).rejects.toThrow(/ENOENT/);
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(root, 'thing.lock'), String(dead));
    let installs = 0;
    await installOnce(
      'thing',
      () => installs > 0,
      async () => {
        installs++;
      },
      { lockDir: root, waitMs: 2000, pollMs: 20 },
    );
    expect(installs).toBe(1);
  });

  it('gives up waiting for a live installer after waitMs, naming the lock', async () => {
    await writeFile(join(root, 'thing.lock'), String(process.pid));
    await expect(
      installOnce(
        'thing',
        () => false,
        async () => {},
        { lockDir: root, waitMs: 100, pollMs: 20 },
      ),
    ).rejects.toThrow(
      /waited 100 ms for another process \(pid \d+\) to finish installing thing; remove .*thing\.lock/,
    );
  });
});
