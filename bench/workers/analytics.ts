/**
 * The analytics benchmark, over records built in memory (no broker: the mapping's side is benchmark 3)
 * and counted into a fresh table on a DynamoDB-compatible endpoint (moto's server, local/moto.ts).
 *
 * `subject`: the analytics function (lambdas/analytics/handler.ts `createHandler`, with the real
 * DynamoDB store of ./store.ts) invoked with one MSK event per batch, in turn, as one mapping does:
 * per record base64 + JSON + contract check, the per-batch aggregation, the transactions.
 * `baseline`: a bare loop sending the same TransactWriteItems (the same items, cut into the same
 * chunks, built before the clock starts) with @aws-sdk/client-dynamodb; no decoding, no validation.
 *
 * Batches rotate over the three source topics (user-events, order-events, payment-events), each
 * batch one topic's records, as a mapping delivers them; events fall on `days` UTC days. Both sides
 * send their transactions one at a time. Throughput counts records from the first batch to the last,
 * or until `timeLimitMs`; afterwards the day totals are read back and must add up to the records
 * processed, so both sides are known to have written the same counts. The process's CPU time per
 * record is reported too: moto's time dominates the throughput, the CPU time is the side's own cost.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { COUNT_PREFIX, chunkEvents, countable, dayTotalsKey, transactionOf } from '../../core/analytics';
import type { KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { streams } from '../../core/topology';
import { createHandler } from '../../lambdas/analytics/handler';
import { dynamoStore } from '../../lambdas/analytics/store';
import type { KafkaWriter } from '../../lambdas/shared/kafka';
import { ensureAnalyticsTable } from '../../local/analytics-table';
import type { AnyEvent, EventType } from '../../schemas/index';
import { mskEventOf, userEvent } from '../lib/fixtures';
import { peakRssMb, runWorker, workerArgs } from '../lib/worker';

export interface AnalyticsArgs {
  readonly mode: 'subject' | 'baseline';
  /** The DynamoDB endpoint, `http://host:port`. */
  readonly endpoint: string;
  /** Created by the worker; one per run, so no run finds another's markers. */
  readonly tableName: string;
  readonly records: number;
  readonly batchSize: number;
  readonly days: number;
  readonly salt: string;
  readonly timeLimitMs: number;
}

export interface AnalyticsResult {
  readonly records: number;
  readonly complete: boolean;
  readonly elapsedMs: number;
  readonly recordsPerSecond: number;
  readonly batches: number;
  readonly transactions: number;
  /** CPU time (user + system) of this process per record while it ran the batches: what the side costs besides the endpoint. */
  readonly cpuUsPerRecord: number;
  readonly peakRssMb: number;
}

/** The `i`-th event of a batch of `topic`: its stream's event types in turn, dated on one of `days` days. */
function eventOf(i: number, topic: string, days: number, salt: string): AnyEvent {
  const accepts = streams.find((s) => s.topic === topic)?.accepts ?? [];
  const type = accepts[i % accepts.length] as EventType;
  const day = new Date(Date.UTC(2026, 10, 1 + (i % days), 12));
  return { ...userEvent(i, salt, type), occurredAt: day.toISOString() } as AnyEvent;
}

/** The writer of the function's dead letters: valid records make none, so any is a bug of the benchmark. */
const noDeadLetters: KafkaWriter = {
  send: async () => {
    throw new Error('the analytics benchmark sent a record the function dead-lettered');
  },
};

async function main(): Promise<AnalyticsResult> {
  const args = workerArgs<AnalyticsArgs>();
  const sdkClient = new DynamoDBClient({
    endpoint: args.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  await ensureAnalyticsTable(sdkClient, args.tableName);
  let transactions = 0;
  /** The client, counting the TransactWriteItems requests of either side. */
  const client: Pick<DynamoDBClient, 'send'> = {
    send: ((command: Parameters<DynamoDBClient['send']>[0]) => {
      if (command instanceof TransactWriteItemsCommand) transactions++;
      return sdkClient.send(command);
    }) as DynamoDBClient['send'],
  };

  const topics = streams.map((s) => s.topic);
  const batches: { topic: string; events: AnyEvent[] }[] = [];
  for (let first = 0; first < args.records; first += args.batchSize) {
    const topic = topics[batches.length % topics.length] as string;
    const size = Math.min(args.batchSize, args.records - first);
    batches.push({
      topic,
      events: Array.from({ length: size }, (_, k) => eventOf(first + k, topic, args.days, args.salt)),
    });
  }

  // Each side's work per batch, prepared before the clock starts.
  let run: (index: number) => Promise<void>;
  if (args.mode === 'subject') {
    const store = dynamoStore({ client, tableName: args.tableName });
    const handler = createHandler({ writer: () => noDeadLetters, store });
    const events: MskEvent[] = batches.map((b) => mskEventOf(b.events, b.topic, 1));
    run = async (index) => {
      const context = { awsRequestId: `bench-${index}`, functionName: 'analytics' } as Context;
      const response = (await handler(events[index] as MskEvent, context)) as KafkaBatchResponse;
      if (response.batchItemFailures.length > 0)
        throw new Error(`batch ${index} failed: ${JSON.stringify(response.batchItemFailures)}`);
    };
  } else {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const requests = batches.map((b) =>
      chunkEvents(b.events.map(countable)).map(
        (chunk) => transactionOf(args.tableName, chunk, nowSeconds).items,
      ),
    );
    run = async (index) => {
      for (const items of requests[index] ?? []) {
        await client.send(
          new TransactWriteItemsCommand({
            TransactItems: items as TransactWriteItemsCommandInput['TransactItems'],
          }),
        );
      }
    };
  }

  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + args.timeLimitMs;
  let records = 0;
  let done = 0;
  for (const [index, batch] of batches.entries()) {
    if (performance.now() >= deadline) break;
    await run(index);
    records += batch.events.length;
    done++;
  }
  const elapsedMs = Math.max(1, performance.now() - started);
  const used = process.cpuUsage(cpu);

  // Both sides must have counted every record they processed, once.
  let total = 0;
  for (let d = 0; d < args.days; d++) {
    const day = new Date(Date.UTC(2026, 10, 1 + d)).toISOString().slice(0, 10);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: args.tableName, Key: dayTotalsKey(day), ConsistentRead: true }),
    );
    for (const [name, value] of Object.entries(Item ?? {}))
      if (name.startsWith(COUNT_PREFIX)) total += Number(value.N);
  }
  if (total !== records)
    throw new Error(`${args.mode}: the day totals count ${total} events, ${records} were processed`);
  sdkClient.destroy();
  return {
    records,
    complete: done === batches.length,
    elapsedMs: Math.round(elapsedMs),
    recordsPerSecond: Math.round((records * 1000) / elapsedMs),
    batches: done,
    transactions,
    cpuUsPerRecord: Math.round((used.user + used.system) / Math.max(1, records)),
    peakRssMb: peakRssMb(),
  };
}

runWorker(main);
