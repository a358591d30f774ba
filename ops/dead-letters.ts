/**
 * Reading dead letters: the records on `<topic>.dlq`, in the layout Lambda writes to a Kafka on-failure
 * destination (schemas/dead-letter.ts; https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html),
 * which our handlers and the local event-source mappings write too. Reading is lenient: records Lambda
 * writes may carry fields we do not know and lack `errorInfo` (our extension), and a record that is
 * not a dead letter at all is listed with the reason rather than stopping the listing.
 */
import { redriveLogOf, topics } from '../core/topology';
import type { OpsClients } from './clients';
import { OpsError } from './clients';
import { bytesText } from './decode';
import {
  existingTopics,
  lastOf,
  type PartitionWindow,
  type ReadRecord,
  readWindows,
  topicOffsets,
  wholeTopic,
} from './read';
import type { SchemaMetadata } from './reframe';

/** The dead-letter topics of core/topology.ts. */
const deadLetterTopicNames = (): string[] =>
  topics.filter((t) => t.carries === 'dead_letter').map((t) => t.name);

/**
 * The compacted topic recording which dead letters of `dlq` were re-driven (ops/redrive.ts);
 * core/topology.ts declares one for each of its dead-letter topics.
 */
export const markerTopicOf = (dlq: string): string => redriveLogOf(dlq);

/** The key of a dead letter in its marker topic and in lookups: `<partition>/<offset>`. */
export const letterKey = (partition: number, offset: bigint | string): string => `${partition}/${offset}`;

/** The failed record a dead letter holds, decoded from its base64 and byte-array form. */
export interface OriginalRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number | undefined;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** In the order the dead letter lists them; a name may repeat. */
  readonly headers: readonly (readonly [string, Buffer])[];
  /** The schema the mapping deserialized the value with, when it delivered it as JSON. */
  readonly valueSchemaMetadata?: SchemaMetadata;
  /** The same for the key. */
  readonly keySchemaMetadata?: SchemaMetadata;
}

/** What a re-drive wrote for one dead letter (the value of its marker record). */
export interface RedriveMarker {
  readonly dlq: string;
  readonly partition: number;
  readonly offset: string;
  /** Where the original record was re-written. */
  readonly to: { readonly topic: string; readonly partition: number; readonly offset: string | null };
  readonly at: string;
}

/** One dead letter as listed by `npm run ops -- dead-letters` and the live view. */
export interface DeadLetterEntry {
  readonly dlqTopic: string;
  readonly partition: number;
  readonly offset: string;
  /** The dead letter's record key (the failed record's key), as text or `base64:...`. */
  readonly key: string | null;
  /** When the record was dead-lettered (`timestamp` of the dead letter, else the record's). */
  readonly time: string;
  readonly condition?: string;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly issues?: readonly { readonly path: string; readonly message: string }[];
  readonly handler?: string;
  readonly attempts?: number;
  /** Where the failed record was read from. */
  readonly source?: { readonly topic: string; readonly partition: number; readonly offset: number };
  /** Set once the dead letter was re-driven. */
  readonly redriven?: RedriveMarker;
  /** Why this record cannot be read as a dead letter (it is then never re-driven). */
  readonly problem?: string;
}

const optional = <K extends string, V>(name: K, value: V | undefined) =>
  (value === undefined ? {} : { [name]: value }) as Partial<Record<K, V>>;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function metadataOf(field: string, v: unknown): SchemaMetadata | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v.dataFormat !== 'string' || typeof v.schemaId !== 'string')
    throw new Error(`payload record ${field} is not {dataFormat, schemaId}`);
  return { dataFormat: v.dataFormat, schemaId: v.schemaId };
}

function bytesOf(field: string, v: unknown): Buffer | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !BASE64.test(v)) throw new Error(`payload record ${field} is not base64`);
  return Buffer.from(v, 'base64');
}

/**
 * The failed record of a dead letter: `payload.records` holds exactly one `"<topic>-<partition>"`
 * entry with one record (schemas/dead-letter.ts). Throws, saying what is missing, otherwise.
 */
export function originalOf(letter: unknown): OriginalRecord {
  if (!isObject(letter) || !isObject(letter.payload) || !isObject(letter.payload.records)) {
    throw new Error('no payload.records');
  }
  const lists = Object.values(letter.payload.records);
  const record =
    lists.length === 1 && Array.isArray(lists[0]) && lists[0].length === 1 ? lists[0][0] : undefined;
  if (!isObject(record)) throw new Error('payload.records does not hold exactly one record');
  const { topic, partition, offset } = record;
  if (typeof topic !== 'string' || topic.length === 0) throw new Error('payload record has no topic');
  if (!Number.isInteger(partition) || (partition as number) < 0)
    throw new Error('payload record has no partition');
  if (!Number.isInteger(offset) || (offset as number) < 0) throw new Error('payload record has no offset');
  const headers: [string, Buffer][] = [];
  for (const header of Array.isArray(record.headers) ? record.headers : []) {
    if (!isObject(header)) throw new Error('payload record headers are not {name: [bytes]} objects');
    for (const [name, bytes] of Object.entries(header)) {
      if (!Array.isArray(bytes) || !bytes.every((b) => Number.isInteger(b)))
        throw new Error(`payload record header "${name}" is not a byte array`);
      // Lambda documents the bytes as Java's signed bytes (-128..127); `& 0xff` reads both spellings.
      headers.push([name, Buffer.from((bytes as number[]).map((b) => b & 0xff))]);
    }
  }
  return {
    topic,
    partition: partition as number,
    offset: offset as number,
    timestamp: typeof record.timestamp === 'number' ? record.timestamp : undefined,
    key: bytesOf('key', record.key),
    value: bytesOf('value', record.value),
    headers,
    ...optional('valueSchemaMetadata', metadataOf('valueSchemaMetadata', record.valueSchemaMetadata)),
    ...optional('keySchemaMetadata', metadataOf('keySchemaMetadata', record.keySchemaMetadata)),
  };
}

/** Reads a dead-letter record; a record that is not one comes back with `problem` set. */
export function parseDeadLetter(
  record: ReadRecord,
  markers?: ReadonlyMap<string, RedriveMarker>,
): { entry: DeadLetterEntry; original?: OriginalRecord } {
  const base = {
    dlqTopic: record.topic,
    partition: record.partition,
    offset: String(record.offset),
    key: bytesText(record.key),
    time: new Date(record.timestamp).toISOString(),
    ...(markers?.has(letterKey(record.partition, record.offset))
      ? { redriven: markers.get(letterKey(record.partition, record.offset)) }
      : {}),
  };
  let letter: unknown;
  try {
    letter = JSON.parse(record.value?.toString('utf8') ?? 'null');
  } catch {
    return { entry: { ...base, problem: 'the value is not JSON' } };
  }
  if (!isObject(letter)) return { entry: { ...base, problem: 'the value is not a JSON object' } };
  const context = isObject(letter.requestContext) ? letter.requestContext : {};
  const info = isObject(letter.errorInfo) ? letter.errorInfo : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const described = {
    ...base,
    ...(typeof letter.timestamp === 'string' && !Number.isNaN(Date.parse(letter.timestamp))
      ? { time: letter.timestamp }
      : {}),
    condition: str(context.condition),
    errorType: str(info.errorType),
    errorMessage: str(info.errorMessage),
    handler: str(info.handler),
    attempts: typeof info.attempts === 'number' ? info.attempts : undefined,
    issues: Array.isArray(info.issues)
      ? info.issues.filter(isObject).map((i) => ({ path: String(i.path), message: String(i.message) }))
      : undefined,
  };
  try {
    const original = originalOf(letter);
    return {
      entry: {
        ...described,
        source: { topic: original.topic, partition: original.partition, offset: original.offset },
      },
      original,
    };
  } catch (error) {
    return { entry: { ...described, problem: `not a dead letter: ${(error as Error).message}` } };
  }
}

/** Reads a marker record; undefined for one that is not a marker. */
function parseMarker(record: ReadRecord): RedriveMarker | undefined {
  try {
    const marker = JSON.parse(record.value?.toString('utf8') ?? 'null') as RedriveMarker | null;
    return isObject(marker) && typeof marker.offset === 'string' && Number.isInteger(marker.partition)
      ? marker
      : undefined;
  } catch {
    return undefined;
  }
}

/** The markers of a marker topic's records, by {@link letterKey}. */
export function markerMap(records: readonly ReadRecord[]): Map<string, RedriveMarker> {
  const out = new Map<string, RedriveMarker>();
  for (const r of records) {
    const marker = parseMarker(r);
    if (marker) out.set(letterKey(marker.partition, marker.offset), marker);
  }
  return out;
}

export interface ListOptions {
  /** Dead-letter topics to list. @default every `<topic>.dlq` of core/topology.ts */
  readonly topics?: readonly string[];
  /** Only the last `n` records of each partition. @default all */
  readonly lastPerPartition?: number;
}

export interface DeadLetterListing {
  /** Oldest first within each topic and partition. */
  readonly entries: DeadLetterEntry[];
  /** Default topics that do not exist on the cluster (nothing was ever set up there). */
  readonly missingTopics: string[];
}

/**
 * The dead letters of `topics`, each with its reason and whether it was re-driven. A topic named
 * explicitly must exist; of the default topics, missing ones are reported, not an error.
 */
export async function listDeadLetters(
  clients: OpsClients,
  options: ListOptions = {},
): Promise<DeadLetterListing> {
  const present = await existingTopics(clients.admin);
  const wanted = options.topics ?? deadLetterTopicNames();
  const missingTopics = wanted.filter((t) => !present.has(t));
  if (options.topics && missingTopics.length > 0) {
    throw new OpsError(`no topic named ${missingTopics.map((t) => `"${t}"`).join(', ')}`);
  }
  const windows: PartitionWindow[] = [];
  for (const topic of wanted.filter((t) => present.has(t))) {
    const offsets = await topicOffsets(clients.admin, topic);
    windows.push(
      ...(options.lastPerPartition === undefined
        ? wholeTopic(topic, offsets)
        : lastOf(topic, offsets, options.lastPerPartition)),
    );
    const markers = markerTopicOf(topic);
    if (present.has(markers))
      windows.push(...wholeTopic(markers, await topicOffsets(clients.admin, markers)));
  }
  const records = await readWindows(clients.kafka, windows);
  return { entries: deadLetterEntries(records), missingTopics };
}

/**
 * Dead-letter entries of a mixed read of DLQ topics and their marker topics: marker records mark
 * their dead letters as re-driven and are not listed themselves.
 */
export function deadLetterEntries(records: readonly ReadRecord[]): DeadLetterEntry[] {
  const markerRecords = new Map<string, ReadRecord[]>();
  for (const r of records) {
    if (!r.topic.endsWith('.redriven')) continue;
    markerRecords.set(r.topic, [...(markerRecords.get(r.topic) ?? []), r]);
  }
  const markers = new Map([...markerRecords].map(([topic, rs]) => [topic, markerMap(rs)]));
  return records
    .filter((r) => !r.topic.endsWith('.redriven'))
    .map((r) => parseDeadLetter(r, markers.get(markerTopicOf(r.topic))).entry);
}

/** A dead letter as one or two lines of text for a terminal. */
export function formatDeadLetter(e: DeadLetterEntry): string {
  const source = e.source
    ? `${e.source.topic} partition ${e.source.partition} offset ${e.source.offset}`
    : '?';
  const reason = e.problem
    ? `UNREADABLE: ${e.problem}`
    : `${e.condition ?? '?'}${e.errorType ? ` ${e.errorType}` : ''}: ${e.errorMessage ?? '(no errorInfo)'}`;
  const status = e.redriven ? `  [re-driven ${e.redriven.at}]` : '';
  return `${e.dlqTopic}/${e.partition}/${e.offset}  ${e.time}  from ${source}  key=${e.key ?? '(none)'}${status}\n  ${reason}`;
}
