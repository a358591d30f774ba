/** Item 4: CPU per record of the consumer logic against Powertools' kafkaConsumer; see bench/workers/cpu.ts. */
import { runWorker } from '../lib/child';
import { pick, type SuiteContext } from '../lib/context';
import type { CpuArgs, CpuResult } from '../workers/cpu';

export type CpuPerRecordResult = CpuResult;

export async function cpuPerRecord(ctx: SuiteContext): Promise<CpuPerRecordResult> {
  const args: CpuArgs = {
    batchSize: 100,
    rounds: pick(ctx, 1, 5),
    msPerRound: pick(ctx, 100, 1500),
    salt: ctx.salt,
    profile: true,
  };
  // tsx rather than the bundle, so the profile names source files; the CPU cost is the same code.
  const result = await runWorker<CpuResult>('cpu', args, {
    env: ctx.functionEnv,
    timeoutMs: 5 * 60_000,
    tsx: true,
  });
  for (const c of [result.read, result.whole])
    ctx.log(
      `  ${c.subject.name}: ${c.subject.usPerRecord} µs/record vs ${c.baseline.name}: ${c.baseline.usPerRecord} (×${c.ratio})`,
    );
  return result;
}
