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
 *   "The same job" on both sides: the same derived events with the same ids (a version-5 UUID of the
 *   same name, computed the plain node:crypto way, see {@link baselineUuidV5}), the same records
 *   (`eventRecord`: key, partition, Glue-framed value, headers), grouped by topic.
 *
 * CPU time (user + system) per record over batches of `batchSize`; sides alternate, medians of the
 * rounds are reported.
 */
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { HEADER_LENGTH } from '../../core/glue-wire-format';
import { decodeMskEvent, type MskEvent } from '../../core/msk-event';
import { contractOfSchemaVersionId, eventRecord, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers } from '../../core/topology';
import {
  DERIVED_EVENT_NAMESPACE,
  deriveEvents,
  processBatch,
  readEvent,
} from '../../lambdas/consumers/consumer';
import { deriverOf } from '../../lambdas/consumers/flows';
import type { KafkaWriter, OutgoingMessage, TopicMessages } from '../../lambdas/shared/kafka';
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
/** The batch our side wrote last (kept, not sent: no I/O), to compare with the baseline's. */
let oursWritten: readonly TopicMessages[] = [];
const nullWriter: KafkaWriter = {
  send: async (batch) => {
    oursWritten = batch;
    return [];
  },
};
const deps = {
  spec,
  writer: nullWriter,
  schemaVersionIds: schemaVersionIds(undefined),
  contractOf: contractOfSchemaVersionId(undefined),
  now: () => now,
};
const invocation = { awsRequestId: 'bench', invokedFunctionArn: 'arn:bench', functionName: 'user-consumer' };
const context = { awsRequestId: 'bench', functionName: 'user-consumer' } as Context;

/**
 * A version-5 UUID (RFC 4122) as a handler without our `core/uuid.ts` computes it: SHA-1 of the
 * namespace bytes and the name with node:crypto (as the `uuid` package does on Node), then the version
 * and variant bits. Gives the same ids as ours (checked in `main`).
 */
function baselineUuidV5(namespace: string, name: string): string {
  const digest = hash(
    'sha1',
    Buffer.concat([Buffer.from(namespace.replaceAll('-', ''), 'hex'), Buffer.from(name)]),
    'buffer',
  );
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const h = digest.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

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

/** The records the baseline wrote in its last batch, to check that both sides derive the same. */
let baselineWritten = new Map<string, OutgoingMessage[]>();

const powertoolsWhole = kafkaConsumer(
  async (event) => {
    const ids = deps.schemaVersionIds;
    const out = new Map<string, OutgoingMessage[]>();
    const occurredAt = now.toISOString();
    let n = 0;
    for (const record of event.records) {
      const source = record.value as AnyEvent;
      (spec.flows[source.eventType] ?? []).forEach((d, index) => {
        const data = deriverOf(source.eventType, d.eventType)?.(source as never);
        const derived = (derivedSchemas.get(d.eventType) as z.ZodType).parse({
          eventId: baselineUuidV5(
            DERIVED_EVENT_NAMESPACE,
            `${source.eventId}/${record.topic}/${d.eventType}/${index}`,
          ),
          eventType: d.eventType,
          occurredAt,
          source: spec.name,
          correlationId: source.correlationId,
          causationId: source.eventId,
          schemaVersion: contractVersions[d.eventType],
          data,
        }) as AnyEvent;
        const { topic, message } = eventRecord(derived, ids);
        const list = out.get(topic.name) ?? [];
        list.push(message);
        out.set(topic.name, list);
      });
      n++;
    }
    baselineWritten = out;
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
  check.push(await powertoolsWhole(event, context));
  if (check.some((n) => n !== args.batchSize))
    throw new Error(`sides disagree on the batch: ${check.join(', ')}`);
  // ...and on what they write: the same records (key, partition, headers, and the same event in the
  // value; Zod may order an object's keys differently, so values are compared as parsed JSON).
  const comparable = (messages: readonly OutgoingMessage[] | undefined) =>
    (messages ?? []).map((m) => ({
      ...m,
      value: JSON.parse((m.value as Buffer).subarray(HEADER_LENGTH).toString()),
      frame: (m.value as Buffer).subarray(0, HEADER_LENGTH).toString('hex'),
    }));
  const oursByTopic = new Map(oursWritten.map((t) => [t.topic, t.messages]));
  if (oursByTopic.size !== baselineWritten.size) throw new Error('sides write different topics');
  for (const [topic, messages] of baselineWritten)
    assert.deepStrictEqual(comparable(oursByTopic.get(topic)), comparable(messages), `records on ${topic}`);
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
