/**
 * CPU profiles of a stretch of a worker's run (V8's sampling profiler through node:inspector),
 * summarised as shares of the sampled time: idle, garbage collection, by package, the hottest
 * functions by self time, and our own functions by inclusive time. The raw .cpuprofile is kept in
 * .cache/bench/profiles/ for Chrome DevTools or speedscope.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join, relative, resolve } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface Share {
  readonly name: string;
  readonly pct: number;
}

export interface ProfileSummary {
  readonly label: string;
  readonly sampledMs: number;
  readonly idlePct: number;
  readonly gcPct: number;
  /** Self time by where the code lives: a package, a folder of this project, Node, generated code. */
  readonly byPackage: readonly Share[];
  /** Functions with the most self time. */
  readonly selfTop: readonly Share[];
  /** This project's functions by inclusive time (the function and what it calls). */
  readonly inclusiveOwn: readonly Share[];
  readonly file: string;
}

const ROOT = resolve('.');

function place(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName.startsWith('(')) return functionName;
    return /^validate\d+$/.test(functionName) ? 'Ajv (compiled validators)' : 'V8 built-ins';
  }
  if (url.startsWith('node:')) return 'node (built-in)';
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  if (pkg) return pkg;
  const rel = relative(ROOT, path);
  if (rel.startsWith('..')) return path;
  return rel.split('/').slice(0, 2).join('/');
}

function label(frame: CallFrame): string {
  const where = place(frame);
  const path = frame.url.startsWith('file://')
    ? relative(ROOT, decodeURIComponent(new URL(frame.url).pathname))
    : '';
  // Line numbers are left out: under tsx they are those of the transformed code.
  const file = path && !path.includes('node_modules') ? path : where;
  return `${frame.functionName || '(anonymous)'} (${file})`;
}

const pct = (n: number, total: number) => Math.round((n / Math.max(1, total)) * 1000) / 10;

function top(map: Map<string, number>, total: number, n: number): Share[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => ({ name, pct: pct(hits, total) }));
}

function summarizeProfile(profile: CpuProfile, name: string, file: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  const packages = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    if (n.callFrame.functionName === '(idle)') idle += hits;
    if (n.callFrame.functionName === '(garbage collector)') gc += hits;
    const key = label(n.callFrame);
    self.set(key, (self.get(key) ?? 0) + hits);
    const where = place(n.callFrame);
    packages.set(where, (packages.get(where) ?? 0) + hits);
  }
  // Inclusive time of this project's functions, not counting a recursive call twice.
  const inclusive = new Map<string, number>();
  const totals = new Map<number, number>();
  const subtotal = (id: number): number => {
    const cached = totals.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id);
    const sum = (node?.hitCount ?? 0) + (node?.children ?? []).reduce((s, c) => s + subtotal(c), 0);
    totals.set(id, sum);
    return sum;
  };
  const walk = (id: number, active: Set<string>) => {
    const node = byId.get(id);
    if (!node) return;
    const where = place(node.callFrame);
    const own = /^(lambdas|local|schemas|lib|bench)\//.test(where);
    const key = label(node.callFrame);
    const entered = own && !active.has(key);
    if (entered) {
      inclusive.set(key, (inclusive.get(key) ?? 0) + subtotal(id));
      active.add(key);
    }
    for (const c of node.children ?? []) walk(c, active);
    if (entered) active.delete(key);
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  return {
    label: name,
    sampledMs: Math.round((profile.endTime - profile.startTime) / 1000),
    idlePct: pct(idle, total),
    gcPct: pct(gc, total),
    byPackage: top(packages, total, 12),
    selfTop: top(self, total, 15),
    inclusiveOwn: top(inclusive, total, 15),
    file,
  };
}

/** A sampling profiler over this process; `stop` returns the summary and writes the raw profile. */
export async function startProfile(name: string): Promise<{ stop: () => Promise<ProfileSummary> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      session.disconnect();
      const dir = resolve('.cache', 'bench', 'profiles');
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${name}-${new Date().toISOString().replaceAll(':', '-')}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      return summarizeProfile(profile, name, relative(ROOT, file));
    },
  };
}
