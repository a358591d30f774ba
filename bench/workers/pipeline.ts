/**
 * Item 5, the system under test of the end-to-end benchmark, serving until told to stop.
 *
 * `subject`: the local runtime's pieces in one process, as `npm start` assembles them
 * (local/runtime.ts): the local API with the producer function, and one local event-source mapping
 * per consumer running its handler, each with batching window 0 and a new consumer group starting
 * at the end of its topic (LATEST), so earlier benchmarks' records are not read. (AT_TIMESTAMP would
 * do the same but costs about 5 s per mapping at start: kafkajs' admin.setOffsets waits for a fetch.)
 *
 * `baseline`: the same path with bare clients: the bare HTTP server (bench/lib/bare-http.ts) and a
 * bare kafkajs consumer of user-events (eachBatch, fetches answered as soon as a record is there, like
 * window 0) writing the same derived records with acks=all, then committing.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { consumers } from '../../core/topology';
import { createHandler as orderConsumer } from '../../lambdas/consumers/order';
import { createHandler as paymentConsumer } from '../../lambdas/consumers/payment';
import { createHandler as userConsumer } from '../../lambdas/consumers/user';
import { createHandler as producer } from '../../lambdas/producer/handler';
import { createKafka, type HandlerOptions, SharedProducer } from '../../lambdas/shared/kafka';
import { createApiServer } from '../../local/api/server';
import { CoalescingWriter, coalescingWriters } from '../../local/coalescing-writer';
import { consumerMapping } from '../../local/consumer-mapping';
import type { AsyncHandler } from '../../local/lambda';
import { contractOfLocalSchemaVersionId } from '../../schemas/registry';
import { bareDerive, bareKafka, bareProducer, byTopic } from '../lib/bare';
import { bareHttpServer } from '../lib/bare-http';
import { fromParent, peakRssMb, runWorker, toParent, workerArgs } from '../lib/worker';

export interface PipelineArgs {
  readonly mode: 'subject' | 'baseline';
  readonly brokers: string;
  readonly salt: string;
}

export interface PipelineResult {
  readonly peakRssMb: number;
  readonly cpuSeconds: number;
}

const quiet = () => {};
const handlers: Record<string, (options: HandlerOptions) => unknown> = {
  'user-consumer': userConsumer,
  'order-consumer': orderConsumer,
  'payment-consumer': paymentConsumer,
};

async function subject(args: PipelineArgs): Promise<{ server: Server; close: () => Promise<void> }> {
  const settings = { brokers: args.brokers.split(','), auth: 'plaintext' as const, region: undefined };
  // The functions and the mappings' writers as the local runtime builds them (local/runtime.ts).
  const functionWriters = coalescingWriters();
  const writer = new CoalescingWriter(
    new SharedProducer(createKafka({ ...settings, clientId: 'local-esm' }, quiet)),
  );
  const mappings = consumers.map((spec) =>
    consumerMapping({
      spec: {
        ...spec,
        mapping: {
          ...spec.mapping,
          consumerGroupId: `${spec.mapping.consumerGroupId}-bench-${args.salt}`,
          maximumBatchingWindowSeconds: 0,
          startingPosition: { type: 'LATEST' },
        },
      },
      kafka: createKafka({ ...settings, clientId: `esm-${spec.name}` }, quiet),
      handler: handlers[spec.name]?.({ writer: functionWriters.create }) as AsyncHandler<
        MskEvent,
        KafkaBatchResponse | undefined
      >,
      writer,
      schemaOf: async (id) => contractOfLocalSchemaVersionId(id),
      bootstrapServers: args.brokers,
      eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
    }),
  );
  await Promise.all(mappings.map((m) => m.start()));
  const server = createApiServer({
    producer: producer({ writer: functionWriters.create }) as never,
    health: async () => ({ healthy: true }),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
  });
  return {
    server,
    close: async () => {
      await Promise.all(mappings.map((m) => m.stop()));
      await writer.disconnect();
      await functionWriters.disconnect();
    },
  };
}

async function baseline(args: PipelineArgs): Promise<{ server: Server; close: () => Promise<void> }> {
  const { server, close } = await bareHttpServer(args.brokers);
  const kafka = bareKafka(args.brokers, 'bench-bare-pipeline');
  const groupId = `bench-bare-pipeline-${args.salt}`;
  const out = bareProducer(kafka);
  await out.connect();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 10, minBytes: 1 });
  await consumer.connect();
  // A new group without fromBeginning starts at the end of the topic.
  await consumer.subscribe({ topic: 'user-events', fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const now = new Date().toISOString();
      const derived = batch.messages.flatMap((m) =>
        m.value ? bareDerive(m.value, batch.topic, batch.partition, m.offset, now) : [],
      );
      await out.sendBatch({ acks: -1, topicMessages: byTopic(derived) });
      const last = batch.messages.at(-1);
      if (!last) return;
      resolveOffset(last.offset);
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
      ]);
      await heartbeat();
    },
  });
  return {
    server,
    close: async () => {
      await consumer.disconnect();
      await out.disconnect();
      await close();
    },
  };
}

async function main(): Promise<PipelineResult> {
  const args = workerArgs<PipelineArgs>();
  const { server, close } = args.mode === 'subject' ? await subject(args) : await baseline(args);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cpuAtStart = process.cpuUsage();
  await toParent({ type: 'ready', data: { port: (server.address() as AddressInfo).port } });
  await fromParent('stop');
  const cpu = process.cpuUsage(cpuAtStart);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await close();
  return { peakRssMb: peakRssMb(), cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100 };
}

runWorker(main);
