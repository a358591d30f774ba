/**
 * The local runtime: the whole pipeline on one machine. An embedded Apache Kafka broker (or the
 * cluster in KAFKA_BROKERS), the topology's topics, the producer API on http://127.0.0.1:3000, and a
 * local event-source mapping per consumer, all running the same handler code as AWS.
 */
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Admin } from 'kafkajs';
import type { KafkaBatchResponse, MskEvent } from '../core/msk-event';
import { consumers } from '../core/topology';
import { createKafka, SharedProducer } from '../lambdas/shared/kafka';
import { ensureTopics } from '../lambdas/shared/topics';
import { lagOf } from '../ops/lag';
import { createApiServer } from './api/server';
import { CoalescingWriter, coalescingWriters } from './coalescing-writer';
import { consumerMapping, pollersOf } from './consumer-mapping';
import type { LocalEventSourceMapping } from './esm/index';
import { type LoadOptions, loadFunctions } from './functions';
import { EmbeddedKafka } from './kafka/broker';
import type { AsyncHandler } from './lambda';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './lambda';
import { RuntimeMetrics } from './metrics';
import { schemaRegistryFromEnvironment } from './schema-registry';
import { liveView } from './view/routes';

export interface RuntimeOptions {
  /** Use this cluster instead of starting one (`KAFKA_BROKERS`). */
  readonly brokers?: string;
  /** Port of the local API. @default 3000 */
  readonly apiPort?: number;
  /** Port of the embedded broker. @default 9092 */
  readonly kafkaPort?: number;
  /** Data directory of the embedded broker. @default .kafka-data */
  readonly dataDir?: string;
  /** Run the esbuild bundles CDK deploys instead of the TypeScript sources. */
  readonly bundles?: boolean;
  /**
   * Wraps each consumer's writer of derived events and dead letters (the resilience tests make
   * writes fail with it: test/support/chaos-writer.ts). Sources only, not with `bundles`.
   */
  readonly wrapConsumerWriter?: LoadOptions['wrapConsumerWriter'];
  readonly log?: (line: string) => void;
}

/** A problem a person can fix: printed as one line, exit status 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const HOST = '127.0.0.1';

async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new StartupError(
          error.code === 'EADDRINUSE'
            ? `port ${port} (${what}) is already in use: stop what uses it, or choose another port`
            : `cannot listen on ${HOST}:${port} (${what}): ${error.message}`,
        ),
      ),
    );
    probe.listen(port, HOST, () => probe.close(() => resolve()));
  });
}

async function assertReachable(brokers: string): Promise<void> {
  const admin = createKafka(
    { clientId: 'local-check', brokers: brokers.split(','), auth: 'plaintext', region: undefined },
    undefined,
    { logLevel: 'nothing', connectionTimeout: 3000, retry: { retries: 2 } },
  ).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new StartupError(`KAFKA_BROKERS=${brokers} is not reachable: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export class LocalRuntime {
  private constructor(
    readonly brokers: string,
    readonly apiUrl: string,
    readonly mappings: readonly LocalEventSourceMapping[],
    readonly metrics: RuntimeMetrics,
    readonly startedInMs: number,
    readonly origin: string,
    private readonly server: Server,
    private readonly admin: Admin,
    private readonly writer: CoalescingWriter,
    private readonly functionWriters: { disconnect(): Promise<void> },
    private readonly cluster: EmbeddedKafka | undefined,
    readonly createdTopics: readonly string[],
    /** Where schema version ids come from: the contract files or a Glue endpoint. */
    readonly schemaSource: string,
  ) {}

  static async start(options: RuntimeOptions = {}): Promise<LocalRuntime> {
    const started = performance.now();
    const log = options.log ?? (() => {});
    if (options.wrapConsumerWriter && options.bundles) {
      // Checked before anything starts, so nothing is left running (loadFunctions says the same).
      throw new StartupError(
        'wrapConsumerWriter needs the TypeScript sources: it cannot be used with bundles',
      );
    }
    const apiPort = options.apiPort ?? 3000;
    await assertPortFree(apiPort, 'local API');
    let cluster: EmbeddedKafka | undefined;
    let brokers = options.brokers;
    if (brokers) {
      await assertReachable(brokers);
    } else {
      const kafkaPort = options.kafkaPort ?? 9092;
      cluster = await EmbeddedKafka.start({
        dataDir: options.dataDir ?? '.kafka-data',
        port: kafkaPort,
        log: (line) => {
          if (!line.startsWith('[kafka') || /\b(ERROR)\b/.test(line)) log(line);
        },
      }).catch(async (error: Error) => {
        if (/Address already in use|EADDRINUSE|BindException/.test(error.message)) {
          throw new StartupError(
            `port ${kafkaPort} (Kafka) is already in use: stop what uses it, or set KAFKA_PORT`,
          );
        }
        throw error;
      });
      brokers = cluster.bootstrapServers;
    }
    const settings = {
      brokers: brokers.split(','),
      auth: 'plaintext' as const,
      region: undefined,
      clientId: 'local-runtime',
    };
    const quiet = () => {};
    const kafka = createKafka(settings, quiet);
    const admin = kafka.admin();
    await admin.connect();
    const topics = await ensureTopics(admin);
    const registry = await schemaRegistryFromEnvironment();
    // One process serves every request and batch: the functions and the mappings write through
    // coalescing writers (./coalescing-writer.ts), which merge concurrent sends.
    const functionWriters = coalescingWriters();
    const metrics = new RuntimeMetrics(admin);
    const functions = await loadFunctions(brokers, {
      bundles: options.bundles,
      wrapConsumerWriter: options.wrapConsumerWriter,
      schemaVersionIds: registry.fromGlue ? registry.ids : undefined,
      // Observed for /metrics: records produced per topic and the produce latency.
      writer: (settings, log) => metrics.observeWriter(functionWriters.create(settings, log)),
    });
    const writer = new CoalescingWriter(
      new SharedProducer(createKafka({ ...settings, clientId: 'local-esm' }, quiet)),
    );
    const eventSourceArn = `arn:aws:kafka:${LOCAL_REGION}:${LOCAL_ACCOUNT}:cluster/local/local`;
    const mappings = consumers.map((spec) =>
      consumerMapping({
        spec,
        kafka: createKafka({ ...settings, clientId: `esm-${spec.name}` }, quiet),
        handler: functions.consumers.get(spec.name) as AsyncHandler<MskEvent, KafkaBatchResponse | undefined>,
        writer,
        schemaOf: (id) => registry.schemaOf(id),
        bootstrapServers: brokers as string,
        eventSourceArn,
        observer: metrics.mappingObserver(spec),
        log: (level, message, details) =>
          log(`[${level}] ${message}${details ? ` ${JSON.stringify(details)}` : ''}`),
      }),
    );
    for (const m of mappings) await m.start();

    let runtime: LocalRuntime | undefined;
    // The live view (GET /, /api/overview, POST /api/redrive) reads and re-drives with the runtime's
    // own client and admin.
    const view = liveView({
      clients: { kafka, admin },
      brokers,
      mappings: () =>
        mappings.map((m) => ({
          name: m.name,
          state: m.state,
          lastError: m.lastError ?? null,
          pollers: pollersOf(m),
        })),
    });
    const server = createApiServer({
      pages: view.pages,
      actions: view.actions,
      producer: functions.producer as AsyncHandler<APIGatewayProxyEvent, APIGatewayProxyResult>,
      health: async () => (runtime ? runtime.health() : { healthy: false, status: 'starting' }),
      metrics: async () => ({
        contentType: metrics.registry.contentType,
        body: await metrics.registry.metrics(),
      }),
      onRequest: (route, status, stream, body) => {
        metrics.requests.inc({ route, status: String(status) });
        if (status === 202 && stream) {
          const parsed = JSON.parse(body) as { results?: unknown[] };
          metrics.produced.inc({ stream }, parsed.results?.length ?? 1);
        }
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new StartupError(`cannot start the local API on port ${apiPort}: ${error.message}`)),
      );
      server.listen(apiPort, HOST, () => resolve());
    });
    runtime = new LocalRuntime(
      brokers,
      `http://${HOST}:${apiPort}`,
      mappings,
      metrics,
      Math.round(performance.now() - started),
      functions.origin,
      server,
      admin,
      writer,
      functionWriters,
      cluster,
      topics.created,
      registry.source,
    );
    return runtime;
  }

  /** Broker reachable, every mapping running, each mapping's lag and last error. */
  async health(): Promise<{
    healthy: boolean;
    broker: { reachable: boolean; error?: string };
    mappings: unknown[];
  }> {
    let reachable = true;
    let error: string | undefined;
    try {
      await this.admin.describeCluster();
    } catch (e) {
      reachable = false;
      error = (e as Error).message;
    }
    const mappings = await Promise.all(
      this.mappings.map(async (m) => {
        const spec = consumers.find((c) => c.name === m.name);
        const lag =
          reachable && spec
            ? await lagOf(this.admin, spec.mapping.consumerGroupId, spec.sourceTopic)
            : undefined;
        return {
          name: m.name,
          state: m.state,
          lag,
          lastError: m.lastError ?? null,
          pollers: pollersOf(m),
        };
      }),
    );
    const healthy = reachable && this.mappings.every((m) => m.state === 'running');
    return { healthy, broker: { reachable, ...(error ? { error } : {}) }, mappings };
  }

  /**
   * Stops in the order that loses nothing: the API stops taking requests and finishes those in flight
   * (each was written and acknowledged before it answered), the mappings leave their groups after
   * their current batch (only what finished was committed), then the broker stops.
   */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all(this.mappings.map((m) => m.stop()));
    await this.writer.disconnect();
    await this.functionWriters.disconnect();
    await this.admin.disconnect();
    const { disconnectSharedProducer } = await import('../lambdas/shared/kafka');
    await disconnectSharedProducer();
    await this.cluster?.stop();
  }
}
