/**
 * Item 4: CPU time per record of the consumer logic with no I/O (a writer that writes nothing),
 * against Powertools' `kafkaConsumer` (@aws-lambda-powertools/kafka) with schema parsing of the same
 * records. Records are in the shape the mapping delivers with the Glue integration in JSON mode (the
 * deployed setting), the only shape Powertools' JSON deserializer reads. Zod schemas for Powertools
 * are generated from the same contracts (`z.fromJSONSchema` of each schema's JSON Schema), combined
 * with a discriminated union on `eventType`, the Zod counterpart of our dispatch on `eventType`.
 *
 * Two comparisons:
 * - read: our `decodeMskEvent` + `readEvent` (base64, JSON, contract check) against `kafkaConsumer`
 *   reading each record's value (base64, JSON, Zod parse);
 * - whole: our `processBatch` (read, derive, check each derived event, frame, group by topic) against
 *   `kafkaConsumer` + the same derivers + a Zod parse of each derived event + the same framing.
 *
 * CPU time (user + system) per record over batches of `batchSize`; sides alternate, medians of the
 * rounds are reported.
 */
import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { encode } from '../../core/glue-wire-format';
import { decodeMskEvent, type MskEvent } from '../../core/msk-event';
import { contractOfSchemaVersionId, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers, topicOfEvent } from '../../core/topology';
import { deriveEvents, processBatch, readEvent } from '../../lambdas/consumers/consumer';
import { deriverOf } from '../../lambdas/consumers/flows';
import type { KafkaWriter } from '../../lambdas/shared/kafka';
import { type AnyEvent, contractVersions, type EventType, schemaDefinition } from '../../schemas/index';
import { compileAll } from '../../schemas/validator';
import { mskEventOf, userEvent } from '../lib/fixtures';
import { type ProfileSummary, startProfile } from '../lib/profile';
import { median, ratio, round } from '../lib/stats';
import { runWorker, workerArgs } from '../lib/worker';

export interface CpuArgs {
  readonly batchSize: number;
  readonly rounds: number;
  /** CPU time to spend on each side per round. */
  readonly msPerRound: number;
  readonly salt: string;
  readonly profile: boolean;
}

export interface CpuComparison {
  readonly subject: { readonly name: string; readonly usPerRecord: number };
  readonly baseline: { readonly name: string; readonly usPerRecord: number };
  /** subject / baseline CPU time: below 1 is cheaper than the baseline. */
  readonly ratio: number;
}

export interface CpuResult {
  readonly batchSize: number;
  readonly read: CpuComparison;
  readonly whole: CpuComparison;
  readonly profile?: ProfileSummary;
}

const spec = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;
const now = new Date('2026-11-23T10:00:00.000Z');
const nullWriter: KafkaWriter = { send: async () => [] };
const deps = {
  spec,
  writer: nullWriter,
  schemaVersionIds: schemaVersionIds(undefined),
  contractOf: contractOfSchemaVersionId(undefined),
  now: () => now,
};
const invocation = { awsRequestId: 'bench', invokedFunctionArn: 'arn:bench', functionName: 'user-consumer' };
const context = { awsRequestId: 'bench', functionName: 'user-consumer' } as Context;

const zodOf = (type: EventType) => z.fromJSONSchema(JSON.parse(schemaDefinition(type)));
const sourceTypes = Object.keys(spec.flows) as EventType[];
const sourceSchema = z.discriminatedUnion(
  'eventType',
  sourceTypes.map(zodOf) as unknown as [z.ZodObject, ...z.ZodObject[]],
);
const derivedSchemas = new Map<string, z.ZodType>();
for (const flows of Object.values(spec.flows))
  for (const d of flows ?? []) derivedSchemas.set(d.eventType, zodOf(d.eventType));

/** Ours, read only: decode the event, then parse and check each record. */
async function oursRead(event: MskEvent): Promise<number> {
  let n = 0;
  for (const record of decodeMskEvent(event)) {
    readEvent(record, deps);
    n++;
  }
  return n;
}

/** Ours, the whole consumer logic. */
async function oursWhole(event: MskEvent): Promise<number> {
  const { counts } = await processBatch(event, invocation, deps);
  return [...counts.values()].reduce((s, c) => s + c.received, 0);
}

const powertoolsRead = kafkaConsumer(
  async (event) => {
    let n = 0;
    for (const record of event.records) if (record.value) n++;
    return n;
  },
  { value: { type: 'json', parserSchema: sourceSchema } },
) as (event: MskEvent, context: Context) => Promise<number>;

const powertoolsWhole = kafkaConsumer(
  async (event) => {
    const ids = deps.schemaVersionIds;
    const out = new Map<string, { key: string; value: Buffer }[]>();
    let n = 0;
    for (const record of event.records) {
      const source = record.value as AnyEvent;
      (spec.flows[source.eventType] ?? []).forEach((d, index) => {
        const data = deriverOf(source.eventType, d.eventType)?.(source as never);
        const derived = (derivedSchemas.get(d.eventType) as z.ZodType).parse({
          eventId: '00000000-0000-4000-8000-000000000000',
          eventType: d.eventType,
          occurredAt: now.toISOString(),
          source: spec.name,
          correlationId: source.correlationId,
          causationId: source.eventId,
          schemaVersion: contractVersions[d.eventType],
          data,
        }) as AnyEvent;
        void index;
        const topic = topicOfEvent(d.eventType);
        const key = `${topic.key?.prefix}${(derived.data as Record<string, string>)[topic.key?.field ?? '']}`;
        const list = out.get(topic.name) ?? [];
        list.push({ key, value: encode(ids(d.eventType), Buffer.from(JSON.stringify(derived))) });
        out.set(topic.name, list);
      });
      n++;
    }
    return n;
  },
  { value: { type: 'json', parserSchema: sourceSchema } },
) as (event: MskEvent, context: Context) => Promise<number>;

/** CPU microseconds per record of `fn` over `event`, run for about `ms` of CPU time. */
async function cpuPerRecord(
  fn: (e: MskEvent) => Promise<number>,
  event: MskEvent,
  ms: number,
): Promise<number> {
  let records = 0;
  const start = process.cpuUsage();
  for (;;) {
    records += await fn(event);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return (used.user + used.system) / records;
  }
}

async function main(): Promise<CpuResult> {
  const args = workerArgs<CpuArgs>();
  compileAll();
  const events = Array.from({ length: args.batchSize }, (_, i) => userEvent(i, args.salt));
  const event = mskEventOf(events);
  // Both sides must agree on the records before their costs mean anything.
  const check = [await oursRead(event), await powertoolsRead(event, context), await oursWhole(event)];
  if (check.some((n) => n !== args.batchSize))
    throw new Error(`sides disagree on the batch: ${check.join(', ')}`);
  void deriveEvents;

  const sides = {
    oursRead: (e: MskEvent) => oursRead(e),
    powertoolsRead: (e: MskEvent) => powertoolsRead(e, context),
    oursWhole: (e: MskEvent) => oursWhole(e),
    powertoolsWhole: (e: MskEvent) => powertoolsWhole(e, context),
  };
  const samples: Record<keyof typeof sides, number[]> = {
    oursRead: [],
    powertoolsRead: [],
    oursWhole: [],
    powertoolsWhole: [],
  };
  const names = Object.keys(sides) as (keyof typeof sides)[];
  for (const name of names) await cpuPerRecord(sides[name], event, Math.min(200, args.msPerRound)); // warm-up
  for (let round = 0; round < args.rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name].push(await cpuPerRecord(sides[name], event, args.msPerRound));
  }
  const us = (name: keyof typeof sides) => round(median(samples[name]), 2);
  const compare = (s: keyof typeof sides, sName: string, b: keyof typeof sides, bName: string) => ({
    subject: { name: sName, usPerRecord: us(s) },
    baseline: { name: bName, usPerRecord: us(b) },
    ratio: ratio(us(s), us(b)),
  });
  let profile: ProfileSummary | undefined;
  if (args.profile) {
    const profiler = await startProfile('consumer-logic-cpu');
    await cpuPerRecord(sides.oursWhole, event, args.msPerRound * 2);
    profile = await profiler.stop();
  }
  return {
    batchSize: args.batchSize,
    read: compare('oursRead', 'decodeMskEvent + readEvent', 'powertoolsRead', 'kafkaConsumer + Zod parse'),
    whole: compare(
      'oursWhole',
      'processBatch (no I/O)',
      'powertoolsWhole',
      'kafkaConsumer + Zod parse + same derive, Zod check and framing',
    ),
    ...(profile ? { profile } : {}),
  };
}

runWorker(main);
