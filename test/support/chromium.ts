/**
 * The browser for the browser test: an installed Chromium or Google Chrome, driven by playwright-core
 * (which downloads no browser). Found on PATH or at the usual install locations; where none is
 * found and the system can install one (root, with apt-get: Debian's `chromium` package), it is
 * installed once, saying so; otherwise the error gives the command to run. Never a downloaded
 * browser build.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { installOnce } from '../../local/install-once';

const run = promisify(execFile);

/** Executable names of Chromium and Chrome builds, looked up on PATH in this order. */
const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'] as const;

/** Where packages and installers put them when their directory is not on PATH. */
const KNOWN_LOCATIONS: readonly string[] = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/snap/bin/chromium',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** Debian's package (bookworm and later), as .ci/run used to install it. */
export const APT_INSTALL = 'apt-get update && apt-get install -y chromium';

export interface ChromiumLookup {
  /** The environment: PATH, and CHROMIUM_PATH to name the executable. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Absolute paths tried after PATH. @default {@link KNOWN_LOCATIONS} */
  readonly known?: readonly string[];
}

const executable = (file: string) => {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The first executable `name` in the directories of `path`. */
function onPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const file = join(dir, name);
    if (executable(file)) return file;
  }
  return undefined;
}

/**
 * The Chromium or Chrome executable: CHROMIUM_PATH when set (an error if it is not an executable
 * file), else the first of {@link BROWSER_NAMES} on PATH, else the first of the known locations.
 */
export function findChromium({
  env = process.env,
  known = KNOWN_LOCATIONS,
}: ChromiumLookup = {}): string | undefined {
  const named = env.CHROMIUM_PATH?.trim();
  if (named) {
    if (!executable(named))
      throw new Error(
        `CHROMIUM_PATH=${named} is not an executable file: point it at a Chromium or Chrome binary`,
      );
    return named;
  }
  for (const name of BROWSER_NAMES) {
    const found = onPath(name, env.PATH);
    if (found) return found;
  }
  return known.find(executable);
}

export interface EnsureChromiumOptions extends ChromiumLookup {
  /** Whether this process may install system packages. @default running as root */
  readonly isRoot?: boolean;
  /** Progress lines. @default to stderr, prefixed [chromium] */
  readonly log?: (line: string) => void;
  /** Directory of the install lock. @default .cache */
  readonly lockDir?: string;
}

/**
 * The browser's executable, installing Debian's `chromium` with apt-get first when none is found and
 * this process runs as root on a system with apt-get (once: concurrent callers wait for the one
 * installing). Otherwise an error that says what to run.
 */
export async function ensureChromium(options: EnsureChromiumOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const lookup = { env, known: options.known };
  const found = findChromium(lookup);
  if (found) return found;

  const aptGet = onPath('apt-get', env.PATH);
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  const looked = `looked for ${BROWSER_NAMES.join(', ')} on PATH and in ${(options.known ?? KNOWN_LOCATIONS).join(', ')}`;
  if (!aptGet) {
    throw new Error(
      `no Chromium or Chrome found (${looked}). Install Chromium or Google Chrome with your system's package manager, or set CHROMIUM_PATH to its executable`,
    );
  }
  if (!isRoot) {
    throw new Error(
      `no Chromium or Chrome found (${looked}). Install it with: sudo apt-get update && sudo apt-get install -y chromium`,
    );
  }

  const log = options.log ?? ((line: string) => process.stderr.write(`[chromium] ${line}\n`));
  const childEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  let installedHere = false;
  await installOnce(
    'chromium-install',
    () => findChromium(lookup) !== undefined,
    async () => {
      log(`no Chromium or Chrome found; installing Debian's chromium package (once): ${APT_INSTALL}`);
      try {
        await run(aptGet, ['update'], { env: childEnv, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
        await run(aptGet, ['install', '-y', 'chromium'], {
          env: childEnv,
          timeout: 600_000,
          maxBuffer: 64 * 1024 * 1024,
        });
        installedHere = true;
      } catch (error) {
        const { stderr, message } = error as { stderr?: string; message: string };
        throw new Error(
          `installing Chromium failed (${APT_INSTALL}): ${(stderr?.trim() || message).split('\n').slice(-5).join('\n')}`,
        );
      }
    },
    { lockDir: options.lockDir },
  );
  const installed = findChromium(lookup);
  if (!installed) throw new Error(`${APT_INSTALL} finished, but still no Chromium (${looked})`);
  if (installedHere) log(`installed ${installed}`);
  return installed;
}
