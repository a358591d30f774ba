/**
 * A real Apache Kafka cluster (KRaft, no ZooKeeper) running as child JVMs on 127.0.0.1, for the tests
 * and the local runtime. One node by default; three for fault tests (replication factor 3,
 * `min.insync.replicas=2`), each node both broker and controller so any one can be killed and the
 * quorum survives.
 *
 * - Storage is formatted once per node (`kafka.tools.StorageTool format`), in a temporary directory
 *   unless `dataDir` is given (then a second start reuses the data and the topics).
 * - Readiness is detected by connecting with a Kafka admin client until every broker is registered.
 * - Each JVM runs under `ParentWatch`, which exits when this process's pipe to it closes, so no JVM
 *   outlives its parent, even one killed with SIGKILL.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { createKafka } from '../../lambdas/shared/kafka';
import { ensureKafka, type KafkaDistribution, LOG4J_CONFIG } from './jars';

const run = promisify(execFile);

export interface EmbeddedKafkaOptions {
  /** Number of nodes, each broker and controller. @default 1 */
  readonly nodes?: 1 | 3;
  /** Keep data here across starts; otherwise a temporary directory removed by {@link EmbeddedKafka.stop}. */
  readonly dataDir?: string;
  /** Port of the first broker's client listener; the others are free ports. @default a free port */
  readonly port?: number;
  /** Maximum heap of each JVM, in MiB. @default 512 */
  readonly heapMb?: number;
  /** How long to wait for the cluster to accept clients. @default 60000 */
  readonly readyTimeoutMs?: number;
  /** Receives progress lines and the brokers' warnings. @default ignore */
  readonly log?: (line: string) => void;
  /** Broker settings added to, or overriding, the generated ones. */
  readonly brokerConfig?: Readonly<Record<string, string>>;
}

export interface KafkaNode {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  readonly propertiesFile: string;
}

/** The cluster did not start, or a node died. Carries the tail of the broker's output. */
class EmbeddedKafkaError extends Error {
  override readonly name = 'EmbeddedKafkaError';
}

const HOST = '127.0.0.1';
const OUTPUT_TAIL_LINES = 60;

/** A port free on 127.0.0.1 right now (the tests and the benchmarks use it too). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}

/**
 * A random cluster id in Kafka's form (base64url of 16 bytes). Like Kafka's own `Uuid.randomUuid`,
 * never one that starts with '-', which the storage tool's argument parser would read as an option.
 */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function properties(entries: Record<string, string | number>): string {
  return `${Object.entries(entries)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/** A running embedded cluster. Create it with {@link EmbeddedKafka.start}. */
export class EmbeddedKafka {
  private readonly processes = new Map<number, ChildProcess>();
  private readonly output = new Map<number, string[]>();
  private stopping = false;
  /** Milliseconds from the call to {@link start} until the cluster accepted clients. */
  readyMillis = 0;

  private constructor(
    readonly distribution: KafkaDistribution,
    readonly nodes: readonly KafkaNode[],
    private readonly options: EmbeddedKafkaOptions,
    private readonly ownsDataDir: string | undefined,
  ) {}

  /** `host:port` of every broker. */
  get brokers(): string[] {
    return this.nodes.map((n) => `${HOST}:${n.port}`);
  }

  /** Comma-separated brokers, the form `KAFKA_BROKERS` and `bootstrap.servers` take. */
  get bootstrapServers(): string {
    return this.brokers.join(',');
  }

  /** Resolves the jars if needed, formats storage, starts every node and waits until it serves clients. */
  static async start(options: EmbeddedKafkaOptions = {}): Promise<EmbeddedKafka> {
    const started = performance.now();
    const log = options.log ?? (() => {});
    const distribution = await ensureKafka(log);
    const count = options.nodes ?? 1;
    const ownsDataDir = options.dataDir ? undefined : await mkdtemp(join(tmpdir(), 'embedded-kafka-'));
    const root = options.dataDir ?? (ownsDataDir as string);
    await mkdir(root, { recursive: true });

    const layoutFile = join(root, 'cluster.json');
    let nodes: KafkaNode[];
    let clusterId: string;
    if (existsSync(layoutFile)) {
      // A persistent data directory: reuse the ports and the cluster id its logs were formatted with.
      const saved = JSON.parse(await readFile(layoutFile, 'utf8')) as {
        clusterId: string;
        nodes: KafkaNode[];
      };
      if (saved.nodes.length !== count) {
        throw new EmbeddedKafkaError(
          `${root} holds a ${saved.nodes.length}-node cluster, not ${count}; use another directory`,
        );
      }
      ({ clusterId, nodes } = saved);
    } else {
      clusterId = newClusterId();
      nodes = [];
      for (let id = 1; id <= count; id++) {
        const port = id === 1 && options.port ? options.port : await freePort();
        const dataDir = join(root, `node-${id}`);
        nodes.push({
          id,
          port,
          controllerPort: await freePort(),
          dataDir,
          propertiesFile: join(dataDir, 'server.properties'),
        });
      }
      await writeFile(layoutFile, JSON.stringify({ clusterId, nodes }, null, 2));
    }

    const replication = Math.min(3, count);
    const minIsr = Math.max(1, replication - 1);
    const voters = nodes.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(',');
    for (const node of nodes) {
      await mkdir(join(node.dataDir, 'logs'), { recursive: true });
      await writeFile(
        node.propertiesFile,
        properties({
          'process.roles': 'broker,controller',
          'node.id': node.id,
          'controller.quorum.voters': voters,
          listeners: `PLAINTEXT://${HOST}:${node.port},CONTROLLER://${HOST}:${node.controllerPort}`,
          'advertised.listeners': `PLAINTEXT://${HOST}:${node.port}`,
          'controller.listener.names': 'CONTROLLER',
          'inter.broker.listener.name': 'PLAINTEXT',
          'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
          'log.dirs': join(node.dataDir, 'logs'),
          // Topics are created explicitly from core/topology.ts, as on MSK (auto.create.topics.enable=false).
          'auto.create.topics.enable': 'false',
          'default.replication.factor': replication,
          'min.insync.replicas': minIsr,
          'offsets.topic.replication.factor': replication,
          'offsets.topic.num.partitions': 10,
          'transaction.state.log.replication.factor': replication,
          'transaction.state.log.min.isr': minIsr,
          'share.coordinator.state.topic.replication.factor': replication,
          'share.coordinator.state.topic.min.isr': minIsr,
          // Consumers join at once instead of waiting 3 s for more members.
          'group.initial.rebalance.delay.ms': 0,
          'num.partitions': 1,
          // A crashed node is noticed in 3 s instead of 9 s, so leadership moves quickly in fault tests.
          'broker.heartbeat.interval.ms': 500,
          'broker.session.timeout.ms': 3000,
          ...options.brokerConfig,
        }),
      );
    }

    const cluster = new EmbeddedKafka(distribution, nodes, options, ownsDataDir);
    try {
      await Promise.all(nodes.map((node) => cluster.format(node, clusterId)));
      for (const node of nodes) cluster.spawnNode(node);
      await cluster.waitReady(nodes, options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    cluster.readyMillis = Math.round(performance.now() - started);
    log(`Kafka ${distribution.version} ready on ${cluster.bootstrapServers} in ${cluster.readyMillis} ms`);
    return cluster;
  }

  private classpath(): string {
    return [join(this.distribution.libsDir, '*'), this.distribution.launcherDir].join(delimiter);
  }

  private jvmArgs(node: KafkaNode): string[] {
    const heap = this.options.heapMb ?? 512;
    return [
      `-Xmx${heap}m`,
      '-Xms64m',
      '-XX:+UseSerialGC',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
      `-Dkafka.logs.dir=${node.dataDir}`,
      '-cp',
      this.classpath(),
    ];
  }

  private async format(node: KafkaNode, clusterId: string): Promise<void> {
    if (existsSync(join(node.dataDir, 'logs', 'meta.properties'))) return;
    try {
      await run(this.distribution.java, [
        ...this.jvmArgs(node),
        'kafka.tools.StorageTool',
        'format',
        '--cluster-id',
        clusterId,
        '--config',
        node.propertiesFile,
      ]);
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new EmbeddedKafkaError(
        `formatting node ${node.id} failed: ${(e.stderr || e.stdout || e.message).trim()}`,
      );
    }
  }

  private spawnNode(node: KafkaNode): void {
    const child = spawn(
      this.distribution.java,
      [...this.jvmArgs(node), 'ParentWatch', '20', 'kafka.Kafka', node.propertiesFile],
      // stdin stays an open pipe that we never write to: its closing tells the JVM we are gone.
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const tail: string[] = [];
    this.output.set(node.id, tail);
    const log = this.options.log;
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
        log?.(`[kafka ${node.id}] ${line}`);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.stdin?.on('error', () => {});
    this.processes.set(node.id, child);
    child.once('exit', () => {
      if (this.processes.get(node.id) === child) this.processes.delete(node.id);
    });
  }

  /** The last lines node `id` printed (warnings and errors; INFO goes to its server.log). */
  outputOf(id: number): string {
    return (this.output.get(id) ?? []).join('\n');
  }

  /**
   * Waits until each of `nodes` answers a metadata request on its own listener and the cluster lists
   * every broker. Asking each node directly matters after a restart: the others may still list a
   * crashed broker until its session times out.
   */
  private async waitReady(nodes: readonly KafkaNode[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(nodes);
    let lastError = 'no answer yet';
    while (Date.now() < deadline) {
      for (const node of nodes) {
        if (!this.processes.has(node.id)) {
          throw new EmbeddedKafkaError(
            `Kafka node ${node.id} exited during start-up:\n${this.outputOf(node.id)}`,
          );
        }
      }
      for (const node of [...pending]) {
        const admin = createKafka(
          {
            clientId: 'embedded-kafka-ready',
            brokers: [`${HOST}:${node.port}`],
            auth: 'plaintext',
            region: undefined,
          },
          undefined,
          { logLevel: 'nothing', connectionTimeout: 1000, retry: { retries: 0 } },
        ).admin({ retry: { retries: 0 } });
        try {
          await admin.connect();
          const { brokers } = await admin.describeCluster();
          if (brokers.length >= this.nodes.length) pending.delete(node);
          else lastError = `${brokers.length} of ${this.nodes.length} brokers registered`;
        } catch (error) {
          lastError = `node ${node.id}: ${(error as Error).message}`;
        } finally {
          await admin.disconnect().catch(() => {});
        }
      }
      if (pending.size === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new EmbeddedKafkaError(
      `Kafka did not accept clients within ${timeoutMs} ms (${lastError}):\n${nodes.map((n) => this.outputOf(n.id)).join('\n')}`,
    );
  }

  /** Whether node `id`'s JVM is running. */
  isRunning(id: number): boolean {
    return this.processes.has(id);
  }

  /** The OS process id of node `id`'s JVM, if it runs. */
  pidOf(id: number): number | undefined {
    return this.processes.get(id)?.pid;
  }

  /**
   * Stops node `id`: SIGTERM for a controlled shutdown, SIGKILL to simulate a crash. Resolves when the
   * JVM has exited. Escalates to SIGKILL after `timeoutMs`.
   */
  async stopNode(id: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    const child = this.processes.get(id);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Starts node `id` again on its old ports and data, and waits until the cluster has every broker back. */
  async startNode(id: number): Promise<void> {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new EmbeddedKafkaError(`no node ${id}`);
    if (this.processes.has(id)) return;
    this.spawnNode(node);
    await this.waitReady([node], this.options.readyTimeoutMs ?? 60_000);
  }

  /** Stops every node and removes the data directory if it was temporary. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(this.nodes.map((n) => this.stopNode(n.id, 'SIGTERM', 15_000)));
    if (this.ownsDataDir) await rm(this.ownsDataDir, { recursive: true, force: true });
  }
}
