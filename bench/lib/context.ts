/** What every benchmark suite gets from the runner. */
import type { BenchCluster } from './kafka';

export interface SuiteContext {
  /** A short run that exercises everything (CI); its figures mean little. */
  readonly smoke: boolean;
  readonly cluster: BenchCluster;
  /** The environment the local runtime gives the functions (local/functions.ts). */
  readonly functionEnv: Readonly<Record<string, string>>;
  /** Makes event ids, consumer groups and topics of this run unique. */
  readonly salt: string;
  readonly log: (line: string) => void;
}

/** Picks the smoke or the full value. */
export const pick = <T>(ctx: SuiteContext, smoke: T, full: T): T => (ctx.smoke ? smoke : full);
