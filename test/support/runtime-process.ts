/** `npm start`'s entry point as a child process, as a person runs it, for tests that kill it. */
import { type ChildProcess, spawn } from 'node:child_process';

export { freePort } from '../../local/kafka/broker';

export interface RuntimeProcess {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves when the runtime printed "ready", rejects if it exits first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Starts local/start.ts with `env` added to this process's environment. */
export function startRuntimeProcess(env: Record<string, string>, args: string[] = []): RuntimeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        output.push(line);
        if (/ready in \d+ ms/.test(line)) resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`runtime exited with ${code} before it was ready:\n${output.join('\n')}`)),
    );
  });
  // Callers that expect a failed start await `exited` instead; keep the rejection handled.
  ready.catch(() => {});
  return { child, output, ready, exited };
}
