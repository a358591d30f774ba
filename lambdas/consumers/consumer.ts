/**
 * The consumer logic shared by the user, order and payment functions: an MSK event in, derived events
 * and dead letters out, and the partial batch response. Free of Lambda wiring; see ./handler.ts.
 *
 * Per record, in partition order:
 * 1. Unframe: JSON as delivered by the mapping's schema-registry integration, or Glue-framed bytes
 *    (header checked, schema version id resolved) when the integration is off.
 * 2. Validate against the contract named by `eventType`; the topic must carry that type.
 * 3. Derive the events of core/topology.ts's flow, each with `causationId` = the source `eventId`, the
 *    source `correlationId`, and an `eventId` computed from the source `eventId`, its topic and the
 *    rule, so a retried batch or a duplicated source record writes the same ids and a downstream
 *    consumer can drop duplicates.
 *
 * A record that can never succeed (no value, bad framing, unknown schema, invalid JSON, contract
 * violation, a type the topic does not carry) is written to `<topic>.dlq` as a dead letter and the
 * batch goes on. Its condition is always `RecordRejected`, the project's own: AWS's condition names
 * (`DESERIALIZATION_ERROR`, `SCHEMA_NOT_FOUND`, `RetriesExhausted`...) mean that the event-source
 * mapping gave up on a record, so the handler does not reuse them; `errorInfo.errorType` says why.
 * Derived events and dead letters of the whole batch are written together and awaited; if that
 * write fails, each partition that had something to write is reported from its lowest such
 * offset in the partial batch response, so Lambda retries only those records and the ones after them
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html).
 */

import { emptyValue, parsePayload, schemaNotFound, unframe } from '../../core/classify';
import { deadLetterFor, deadLetterMessage, type InvocationInfo, PoisonRecord } from '../../core/dead-letter';
import type { DecodedRecord, KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { decodeMskEvent, itemFailure } from '../../core/msk-event';
import { eventRecord, type SchemaVersionIds } from '../../core/records';
import { type ConsumerSpec, eventTypesOf, topicNamed } from '../../core/topology';
import { uuidV5 } from '../../core/uuid';
import { contractVersions } from '../../schemas/catalogue';
import type { AnyEvent, ContractName, EventType } from '../../schemas/index';
import { ContractViolation, validateContract, validateEvent } from '../../schemas/validator';
import type { KafkaWriter, OutgoingMessage, TopicMessages } from '../shared/kafka';
import { KafkaUnavailableError } from '../shared/kafka-errors';
import { deriverOf } from './flows';

/** Namespace of derived event ids (a fixed random UUID; exported for the CPU benchmark's baseline). */
export const DERIVED_EVENT_NAMESPACE = '3f0b9c52-8d4e-4a71-b6a2-5c9e0d7f1e43';

/** Counts of what happened to a batch, per source event type (`unknown` when unreadable). */
export type Outcome = 'received' | 'processed' | 'derived' | 'failed' | 'deadLettered';
export type BatchCounts = Map<string, Record<Outcome, number>>;

export interface ConsumerDependencies {
  readonly spec: ConsumerSpec;
  readonly writer: KafkaWriter;
  readonly schemaVersionIds: SchemaVersionIds;
  /** Contract of a schema version id found in a Glue header, or undefined if unknown. */
  readonly contractOf: (schemaVersionId: string) => ContractName | undefined;
  readonly now?: () => Date;
  /** Receives one line per record that is dead-lettered or fails. */
  readonly log?: (level: 'warn' | 'error', message: string, details: Record<string, unknown>) => void;
}

export interface BatchResult {
  readonly response: KafkaBatchResponse;
  readonly counts: BatchCounts;
}

/** The event types on each consumer's source topic, looked up once per consumer (read per record). */
const sourceTypes = new WeakMap<ConsumerSpec, ReadonlySet<EventType>>();

function sourceTypesOf(spec: ConsumerSpec): ReadonlySet<EventType> {
  let types = sourceTypes.get(spec);
  if (!types) {
    types = new Set(eventTypesOf(topicNamed(spec.sourceTopic)));
    sourceTypes.set(spec, types);
  }
  return types;
}

/** Parses and validates one record's value, or throws a {@link PoisonRecord} saying why not. */
export function readEvent(
  record: DecodedRecord,
  deps: Pick<ConsumerDependencies, 'contractOf' | 'spec'>,
): AnyEvent {
  const empty = emptyValue(record.value);
  if (empty) throw empty;
  const unframed = unframe(record.value as Buffer, 'optional');
  if (unframed instanceof PoisonRecord) throw unframed;
  let framedAs: ContractName | undefined;
  if (unframed.schemaVersionId !== undefined) {
    framedAs = deps.contractOf(unframed.schemaVersionId);
    if (!framedAs) throw schemaNotFound(unframed.schemaVersionId);
  }
  const parsed = parsePayload(unframed.payload);
  if (parsed instanceof PoisonRecord) throw parsed;
  const json = parsed.json;
  let event: AnyEvent;
  try {
    event = validateEvent(json);
  } catch (error) {
    if (error instanceof ContractViolation) {
      throw new PoisonRecord('ContractViolation', error.message, 'RecordRejected', error.issues);
    }
    throw error;
  }
  if (framedAs && framedAs !== event.eventType) {
    throw new PoisonRecord(
      'SchemaMismatch',
      `the Glue header names schema "${framedAs}" but the event is "${event.eventType}"`,
    );
  }
  if (!sourceTypesOf(deps.spec).has(event.eventType)) {
    throw new PoisonRecord(
      'UnexpectedEventType',
      `"${event.eventType}" events do not belong on ${deps.spec.sourceTopic}`,
    );
  }
  return event;
}

/** The derived events of `source`, with deterministic ids. Each is checked against its contract. */
export function deriveEvents(
  source: AnyEvent,
  record: DecodedRecord,
  spec: ConsumerSpec,
  now: Date,
): AnyEvent[] {
  return derivedEvents(source, record, spec, now.toISOString());
}

/** {@link deriveEvents} with the batch's `occurredAt`, formatted once per batch. */
function derivedEvents(
  source: AnyEvent,
  record: DecodedRecord,
  spec: ConsumerSpec,
  occurredAt: string,
): AnyEvent[] {
  const derivations = spec.flows[source.eventType] ?? [];
  const out: AnyEvent[] = [];
  for (let index = 0; index < derivations.length; index++) {
    const d = derivations[index] as (typeof derivations)[number];
    const derive = deriverOf(source.eventType, d.eventType);
    if (!derive) throw new Error(`no deriver for ${source.eventType} → ${d.eventType}`);
    const event = {
      // The source event, its topic and the rule, not its offset: a retried batch, a re-driven dead
      // letter and a source event written twice (a client retrying after a 503 or a broker failover)
      // all give the same derived ids, so a downstream consumer can drop duplicates by eventId (no
      // deriving consumer does: a duplicated source event is derived, and written, again; the
      // analytics consumer counts each eventId once).
      eventId: uuidV5(
        DERIVED_EVENT_NAMESPACE,
        `${source.eventId}/${record.raw.topic}/${d.eventType}/${index}`,
      ),
      eventType: d.eventType,
      occurredAt,
      source: spec.name,
      correlationId: source.correlationId,
      causationId: source.eventId,
      schemaVersion: contractVersions[d.eventType],
      data: derive(source as never),
    };
    try {
      out.push(validateContract(d.eventType as EventType, event) as AnyEvent);
    } catch (error) {
      // Valid input gave invalid output: a bug in a deriver. Dead-letter so it can be re-driven once fixed.
      throw new PoisonRecord('DerivationFailed', (error as Error).message);
    }
  }
  return out;
}

function count(counts: BatchCounts, eventType: string, outcome: Outcome, n = 1): void {
  let entry = counts.get(eventType);
  if (!entry) {
    entry = { received: 0, processed: 0, derived: 0, failed: 0, deadLettered: 0 };
    counts.set(eventType, entry);
  }
  entry[outcome] += n;
}

function push(outgoing: Map<string, OutgoingMessage[]>, topic: string, message: OutgoingMessage): void {
  const list = outgoing.get(topic);
  if (list) list.push(message);
  else outgoing.set(topic, [message]);
}

/** Processes one MSK event. Throws only for a failure that is not about a record (a bug). */
export async function processBatch(
  event: MskEvent,
  invocation: InvocationInfo,
  deps: ConsumerDependencies,
): Promise<BatchResult> {
  const now = deps.now?.() ?? new Date();
  const occurredAt = now.toISOString();
  const counts: BatchCounts = new Map();
  const outgoing = new Map<string, OutgoingMessage[]>();
  /** Per partition: the lowest offset with something to write, and what each record was. */
  const firstWrite = new Map<string, number>();
  const pending: { record: DecodedRecord; eventType: string; derived: number; deadLettered: boolean }[] = [];

  for (const record of decodeMskEvent(event)) {
    let eventType = 'unknown';
    try {
      const source = readEvent(record, deps);
      eventType = source.eventType;
      count(counts, eventType, 'received');
      const derived = derivedEvents(source, record, deps.spec, occurredAt);
      for (const d of derived) {
        const { topic, message } = eventRecord(d, deps.schemaVersionIds);
        push(outgoing, topic.name, message);
      }
      if (derived.length > 0 && !firstWrite.has(record.topicPartition))
        firstWrite.set(record.topicPartition, record.raw.offset);
      pending.push({ record, eventType, derived: derived.length, deadLettered: false });
    } catch (error) {
      if (!(error instanceof PoisonRecord)) throw error;
      if (eventType === 'unknown') count(counts, eventType, 'received');
      const letter = deadLetterFor(record, event, error, invocation, now);
      push(outgoing, deps.spec.mapping.onFailureTopic, deadLetterMessage(record, letter));
      if (!firstWrite.has(record.topicPartition)) firstWrite.set(record.topicPartition, record.raw.offset);
      pending.push({ record, eventType, derived: 0, deadLettered: true });
      deps.log?.('warn', 'record dead-lettered', {
        topicPartition: record.topicPartition,
        offset: record.raw.offset,
        errorType: error.errorType,
        reason: error.message,
      });
    }
  }

  const batch: TopicMessages[] = [...outgoing].map(([topic, messages]) => ({ topic, messages }));
  try {
    await deps.writer.send(batch);
  } catch (error) {
    if (!(error instanceof KafkaUnavailableError)) throw error;
    const failures = [...firstWrite].map(([topicPartition, offset]) => itemFailure(topicPartition, offset));
    for (const p of pending) {
      const lowest = firstWrite.get(p.record.topicPartition);
      if (lowest !== undefined && p.record.raw.offset >= lowest) count(counts, p.eventType, 'failed');
      else count(counts, p.eventType, 'processed');
    }
    deps.log?.('error', 'writing derived events failed; the partitions will be retried', {
      error: error.message,
      retriedFrom: Object.fromEntries(firstWrite),
    });
    return { response: { batchItemFailures: failures }, counts };
  }
  for (const p of pending) {
    count(counts, p.eventType, p.deadLettered ? 'deadLettered' : 'processed');
    if (p.derived > 0) count(counts, p.eventType, 'derived', p.derived);
  }
  return { response: { batchItemFailures: [] }, counts };
}
