/**
 * The local runtime: the whole pipeline on one machine. An embedded Apache Kafka broker (or the
 * cluster in KAFKA_BROKERS), the topology's topics, the producer API on http://127.0.0.1:3000, a
 * local event-source mapping per consumer and per analytics source, and a DynamoDB endpoint with the
 * analytics table (moto's server, or the endpoint in DYNAMODB_ENDPOINT), all running the same handler
 * code as AWS.
 */
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Admin } from 'kafkajs';
import { analyticsSourceSpec } from '../core/analytics';
import { FUNCTION_ENV } from '../core/env';
import type { KafkaBatchResponse, MskEvent } from '../core/msk-event';
import { analytics, consumers } from '../core/topology';
import { analyticsClient } from '../lambdas/analytics/store';
import { createKafka, SharedProducer } from '../lambdas/shared/kafka';
import { ensureTopics } from '../lambdas/shared/topics';
import { lagOf } from '../ops/lag';
import { ensureAnalyticsTable } from './analytics-table';
import { createApiServer } from './api/server';
import { CoalescingWriter, coalescingWriters } from './coalescing-writer';
import { consumerMapping, pollersOf } from './consumer-mapping';
import type { LocalEventSourceMapping } from './esm/index';
import { type LoadOptions, loadFunctions } from './functions';
import { EmbeddedKafka } from './kafka/broker';
import type { AsyncHandler } from './lambda';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './lambda';
import { RuntimeMetrics } from './metrics';
import { type MotoServer, startMotoServer } from './moto';
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
  /** Use this DynamoDB endpoint (`DYNAMODB_ENDPOINT`) instead of starting moto's server. */
  readonly dynamodbEndpoint?: string;
  /** The analytics table, created there if missing. @default local-analytics */
  readonly analyticsTable?: string;
  readonly log?: (line: string) => void;
}

/** Where the analytics are counted. */
export interface AnalyticsStorage {
  readonly endpoint: string;
  readonly tableName: string;
  /** `moto` when the runtime started it, `DYNAMODB_ENDPOINT` otherwise. */
  readonly origin: 'moto' | 'DYNAMODB_ENDPOINT';
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
    readonly analyticsStorage: AnalyticsStorage,
    private readonly moto: MotoServer | undefined,
    /** Consumer group and topic of each mapping, in the order of `mappings`. */
    private readonly mappingSources: readonly { readonly group: string; readonly topic: string }[],
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
    // The analytics table: on DYNAMODB_ENDPOINT, or on a moto server started here (stopped by stop()).
    const tableName = options.analyticsTable ?? 'local-analytics';
    let moto: MotoServer | undefined;
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      moto = await startMotoServer().catch((error: Error) => {
        throw new StartupError(`cannot start the local DynamoDB endpoint (moto): ${error.message}`);
      });
      dynamodbEndpoint = moto.endpoint;
    }
    const analyticsEnvironment = {
      [FUNCTION_ENV.analyticsTable]: tableName,
      [FUNCTION_ENV.dynamodbEndpoint]: dynamodbEndpoint,
    };
    try {
      const client = await analyticsClient({ ...process.env, ...analyticsEnvironment });
      await ensureAnalyticsTable(client, tableName).finally(() => client.destroy());
    } catch (error) {
      await moto?.stop();
      throw new StartupError(
        `cannot create the analytics table ${tableName} at ${dynamodbEndpoint}: ${(error as Error).message}`,
      );
    }
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
      environment: analyticsEnvironment,
    });
    const writer = new CoalescingWriter(
      new SharedProducer(createKafka({ ...settings, clientId: 'local-esm' }, quiet)),
    );
    const eventSourceArn = `arn:aws:kafka:${LOCAL_REGION}:${LOCAL_ACCOUNT}:cluster/local/local`;
    const specs = [...consumers, ...analytics.sources.map(analyticsSourceSpec)];
    const mappings = specs.map((spec) =>
      consumerMapping({
        spec,
        kafka: createKafka({ ...settings, clientId: `esm-${spec.name}` }, quiet),
        handler: (spec.name === analytics.name
          ? functions.analytics
          : functions.consumers.get(spec.name)) as AsyncHandler<MskEvent, KafkaBatchResponse | undefined>,
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
      analytics: functions.analyticsApi as AsyncHandler<APIGatewayProxyEvent, APIGatewayProxyResult>,
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
      {
        endpoint: dynamodbEndpoint,
        tableName,
        origin: moto ? 'moto' : 'DYNAMODB_ENDPOINT',
      },
      moto,
      specs.map((s) => ({ group: s.mapping.consumerGroupId, topic: s.sourceTopic })),
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
      this.mappings.map(async (m, i) => {
        const source = this.mappingSources[i];
        const lag = reachable && source ? await lagOf(this.admin, source.group, source.topic) : undefined;
        return {
          name: m.name,
          // The analytics function has a mapping per source topic: the topic tells them apart.
          topic: source?.topic,
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
    await this.moto?.stop();
  }
}
