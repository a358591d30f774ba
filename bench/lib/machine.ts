/** The machine a run measured: recorded with every result, since absolute figures depend on it. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly cpuMHz: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly kafka: string;
  readonly kafkaNodes: number | 'external';
  readonly kafkajs: string;
  /** 1-minute load average when the run started (other work on a shared machine shows here). */
  readonly loadAverageAtStart: number;
  readonly commit: string;
}

function packageVersion(name: string): string {
  try {
    const file = join(process.cwd(), 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !==
      '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(kafka: { version: string; nodes: number | 'external' }): Machine {
  const cpu = cpus()[0];
  return {
    cores: availableParallelism(),
    cpu: cpu?.model.trim() ?? 'unknown',
    cpuMHz: cpu?.speed ?? 0,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform}-${process.arch} ${release()}`,
    node: process.version,
    kafka: kafka.version,
    kafkaNodes: kafka.nodes,
    kafkajs: packageVersion('kafkajs'),
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    commit: gitCommit(),
  };
}

/** One line for logs and the report. */
export function machineLine(m: Machine): string {
  return `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, Kafka ${m.kafka}${
    m.kafkaNodes === 'external' ? ' (KAFKA_BROKERS)' : ` (embedded, ${m.kafkaNodes} node)`
  }, kafkajs ${m.kafkajs}`;
}
