/**
 * Items 3 and 7, the consumer path, over records preloaded on a benchmark topic. `subject`: a local
 * event-source mapping (local/esm/poller.ts) invoking the user-consumer handler, with the topology's
 * mapping settings except the topic, the consumer group, the batch size and the batching window.
 * `baseline`: a bare kafkajs consumer (eachBatch) that reads the same records and writes the same
 * derived records (bench/lib/bare.ts) in chunks of the same batch size, each chunk written with
 * acks=all and then committed, as the mapping does; partitions are processed concurrently in both.
 *
 * Runs until every record on the topic is committed or `timeLimitMs` passes; throughput counts
 * committed records from the moment the consumer has joined its group.
 */
import type { KafkaMessage } from 'kafkajs';
import type { KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { type ConsumerSpec, consumers } from '../../core/topology';
import { createHandler } from '../../lambdas/consumers/user';
import { createKafka, SharedProducer } from '../../lambdas/shared/kafka';
import { CoalescingWriter, coalescingWriters } from '../../local/coalescing-writer';
import { consumerMapping } from '../../local/consumer-mapping';
import { MAX_PAYLOAD_BYTES } from '../../local/esm/index';
import type { AsyncHandler } from '../../local/lambda';
import { contractOfLocalSchemaVersionId } from '../../schemas/registry';
import { bareDerive, bareKafka, bareProducer, byTopic } from '../lib/bare';
import { type ProfileSummary, startProfile } from '../lib/profile';
import { peakRssMb, runWorker, workerArgs } from '../lib/worker';

export interface ConsumerArgs {
  readonly mode: 'subject' | 'baseline';
  readonly brokers: string;
  readonly topic: string;
  readonly partitions: number;
  readonly groupId: string;
  readonly batchSize: number;
  readonly windowSeconds: number;
  readonly timeLimitMs: number;
  readonly profile?: boolean;
  /**
   * Experiments, not used by the suites: `none` invokes a handler that does nothing, and the baseline
   * derives and writes nothing (what the mapping and kafkajs' consumer cost alone); `mappingValidation: false` turns the mapping's schema validation off
   * (SchemaValidationConfigs []), to measure its share.
   */
  readonly handler?: 'user-consumer' | 'none';
  readonly mappingValidation?: boolean;
}

export interface ConsumerResult {
  readonly records: number;
  readonly complete: boolean;
  readonly elapsedMs: number;
  readonly recordsPerSecond: number;
  /** Time to connect and join the group, not counted in the throughput. */
  readonly joinMs: number;
  readonly invocations: number;
  readonly rssAtStartMb: number;
  readonly peakRssMb: number;
  /** CPU time of this process (user + system) per committed record while measuring, in µs. */
  readonly cpuMicrosPerRecord: number;
  readonly profile?: ProfileSummary;
}

const quiet = () => {};

async function main(): Promise<ConsumerResult> {
  const args = workerArgs<ConsumerArgs>();
  const rssAtStartMb = Math.round(process.memoryUsage.rss() / 2 ** 20);
  const kafka = bareKafka(args.brokers, 'bench-offsets');
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(args.topic);
  await admin.disconnect();
  const low = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]));
  const total = offsets.reduce((s, o) => s + (BigInt(o.high) - BigInt(o.low)), 0n);

  const committed = new Map<number, bigint>();
  let lastCommitAt = 0;
  let invocations = 0;
  const onCommit = (partition: number, next: bigint) => {
    committed.set(partition, next);
    lastCommitAt = performance.now();
  };
  const processed = () => [...committed].reduce((s, [p, next]) => s + (next - (low.get(p) ?? 0n)), 0n);

  let stop: () => Promise<void>;
  const joinStarted = performance.now();
  const windowMs = args.windowSeconds * 1000;
  if (args.mode === 'subject') {
    const base = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;
    const spec: ConsumerSpec = {
      ...base,
      sourceTopic: args.topic,
      mapping: {
        ...base.mapping,
        consumerGroupId: args.groupId,
        batchSize: args.batchSize,
        maximumBatchingWindowSeconds: args.windowSeconds,
        ...(args.mappingValidation === false
          ? { schemaRegistry: { ...base.mapping.schemaRegistry, validateValue: false } }
          : {}),
      },
    };
    const settings = { brokers: args.brokers.split(','), auth: 'plaintext' as const, region: undefined };
    // The function's and the mapping's writers as the local runtime builds them (local/runtime.ts).
    const functionWriters = coalescingWriters();
    const handler =
      args.handler === 'none' ? async () => undefined : createHandler({ writer: functionWriters.create });
    const writer = new CoalescingWriter(
      new SharedProducer(createKafka({ ...settings, clientId: 'bench-esm' }, quiet)),
    );
    const mapping = consumerMapping({
      spec,
      kafka: createKafka({ ...settings, clientId: 'bench-esm-user-consumer' }, quiet),
      handler: handler as unknown as AsyncHandler<MskEvent, KafkaBatchResponse | undefined>,
      writer,
      schemaOf: async (id) => contractOfLocalSchemaVersionId(id),
      bootstrapServers: args.brokers,
      eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
      observer: {
        invoked: () => {
          invocations++;
        },
        committed: (_, partition, offset) => onCommit(partition, BigInt(offset)),
      },
    });
    await mapping.start();
    stop = async () => {
      await mapping.stop();
      await writer.disconnect();
      await functionWriters.disconnect();
    };
  } else {
    const producer = bareProducer(kafka);
    await producer.connect();
    const consumer = kafka.consumer({
      groupId: args.groupId,
      maxWaitTimeInMs: Math.max(10, windowMs),
      minBytes: windowMs > 0 ? 1024 * 1024 : 1,
      maxBytesPerPartition: MAX_PAYLOAD_BYTES,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: args.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: args.partitions,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const now = new Date().toISOString();
        for (let i = 0; i < batch.messages.length; i += args.batchSize) {
          if (!isRunning() || isStale()) return;
          const chunk = batch.messages.slice(i, i + args.batchSize);
          invocations++;
          if (args.handler !== 'none') {
            const out = chunk.flatMap((m: KafkaMessage) =>
              m.value ? bareDerive(m.value, batch.topic, batch.partition, m.offset, now) : [],
            );
            await producer.sendBatch({ acks: -1, topicMessages: byTopic(out) });
          }
          const last = chunk[chunk.length - 1] as KafkaMessage;
          const next = BigInt(last.offset) + 1n;
          resolveOffset(last.offset);
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: next.toString() },
          ]);
          onCommit(batch.partition, next);
          await heartbeat();
        }
      },
    });
    stop = async () => {
      await consumer.disconnect();
      await producer.disconnect();
    };
  }
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const recordsAtStart = Number(processed());
  const joinMs = Math.round(started - joinStarted);
  const profiler = args.profile ? await startProfile(`consumer-${args.mode}-b${args.batchSize}`) : undefined;
  const deadline = started + args.timeLimitMs;
  let complete = false;
  while (performance.now() < deadline) {
    if (processed() >= total) {
      complete = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const end = complete ? lastCommitAt : performance.now();
  const cpu = process.cpuUsage(cpuAtStart);
  const records = Number(processed());
  const profile = await profiler?.stop();
  await stop();
  const elapsedMs = Math.max(1, end - started);
  return {
    records,
    complete,
    elapsedMs: Math.round(elapsedMs),
    recordsPerSecond: Math.round((records * 1000) / elapsedMs),
    joinMs,
    invocations,
    rssAtStartMb,
    peakRssMb: peakRssMb(),
    cpuMicrosPerRecord:
      Math.round(((cpu.user + cpu.system) / Math.max(1, records - recordsAtStart)) * 10) / 10,
    ...(profile ? { profile } : {}),
  };
}

runWorker(main);
