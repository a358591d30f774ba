/**
 * The child side of a benchmark worker: its arguments, messages to the parent over the IPC channel,
 * and a main wrapper that reports errors instead of dying silently. See ./child.ts for the parent.
 */

export type FromWorker =
  | { readonly type: 'ready'; readonly data: unknown }
  | { readonly type: 'result'; readonly data: unknown }
  | { readonly type: 'error'; readonly message: string };

export type ToWorker = { readonly type: 'stop' } | { readonly type: 'run'; readonly data: unknown };

/** The JSON arguments the parent passed (argv[2]). */
export function workerArgs<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('a benchmark worker takes its arguments as JSON in argv[2]');
  return JSON.parse(raw) as T;
}

export function toParent(message: FromWorker): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('not started as a benchmark worker (no IPC channel)'));
      return;
    }
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

/** Resolves with the next message from the parent of `type`. */
export function fromParent<T extends ToWorker['type']>(type: T): Promise<Extract<ToWorker, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (message: ToWorker) => {
      if (message?.type !== type) return;
      process.off('message', listener);
      resolve(message as Extract<ToWorker, { type: T }>);
    };
    process.on('message', listener);
  });
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** Runs `main`, sends its value as the result, and exits; an error is sent as such (exit 1). */
export function runWorker(main: () => Promise<unknown>): void {
  main()
    .then(async (data) => {
      await toParent({ type: 'result', data });
      process.exit(0);
    })
    .catch(async (error: Error) => {
      await toParent({ type: 'error', message: error.stack ?? String(error) }).catch(() => {});
      process.exit(1);
    });
}
