/**
 * The event an MSK event-source mapping hands to a function, and the one decoder for it.
 *
 * Shape (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html): records grouped under
 * `"<topic>-<partition>"` keys; key and value base64; headers a list of `{ name: [byte, ...] }`. With
 * the mapping's schema-registry integration and EventRecordFormat JSON, `value` holds the JSON the
 * registry deserialized and the record carries `valueSchemaMetadata: { dataFormat, schemaId }`
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html); without it,
 * `value` holds the bytes as produced, Glue header included. Both are handled by the consumer.
 */

export interface MskSchemaMetadata {
  readonly dataFormat: string;
  readonly schemaId: string;
}

export interface MskRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  /** Base64; absent or null for a record without key. */
  readonly key?: string | null;
  /** Base64; null for a tombstone. */
  readonly value?: string | null;
  /**
   * Each header's value as Java's signed bytes (-128..127), as Lambda serializes a Java `byte[]`.
   * Absent in some published samples (aws-lambda-go's kafka-event.json has no `headers`).
   */
  readonly headers?: readonly Record<string, readonly number[]>[];
  readonly keySchemaMetadata?: MskSchemaMetadata;
  readonly valueSchemaMetadata?: MskSchemaMetadata;
}

export interface MskEvent {
  readonly eventSource: 'aws:kafka' | 'SelfManagedKafka';
  readonly eventSourceArn?: string;
  readonly bootstrapServers: string;
  readonly records: Readonly<Record<string, readonly MskRecord[]>>;
}

/**
 * The partial batch response for Kafka event sources: per failed record, its `"<topic>-<partition>"`
 * under the key `partition`, and its offset. Lambda resumes each listed partition from its lowest
 * failed offset; an empty or absent list means success.
 *
 * The current "Configuring error handling controls for Kafka event sources" page
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html, "Partial batch
 * response") documents `{"batchItemFailures":[{"itemIdentifier":{"partition":"<topic>-<partition>",
 * "offset":<n>}}]}`. An earlier revision of the same page named the key `topic-partition`; the newer
 * revision stands. Lambda treats an identifier it cannot read as a failure of the whole batch, so a
 * response in the old spelling turns every partial failure into a whole-batch retry.
 */
export interface KafkaBatchResponse {
  batchItemFailures: KafkaItemFailure[];
}

export interface KafkaItemFailure {
  itemIdentifier: { partition: string; offset: number };
}

/** The partial-batch-response entry for a record: `{ partition: "<topic>-<partition>", offset }`. */
export const itemFailure = (topicPartition: string, offset: number): KafkaItemFailure => ({
  itemIdentifier: { partition: topicPartition, offset },
});

export interface DecodedRecord {
  readonly raw: MskRecord;
  /** `"<topic>-<partition>"`, as in the event and the partial batch response. */
  readonly topicPartition: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Header values by name, in order (a name may repeat). */
  readonly headers: ReadonlyMap<string, readonly Buffer[]>;
}

const fromBase64 = (text: string | null | undefined): Buffer | null =>
  text === undefined || text === null ? null : Buffer.from(text, 'base64');

/** Header values by name, in order, from MSK's list of `{ name: [signed byte, ...] }`. */
function decodeHeaders(raw: MskRecord): Map<string, Buffer[]> {
  const headers = new Map<string, Buffer[]>();
  for (const header of raw.headers ?? []) {
    for (const [name, bytes] of Object.entries(header)) {
      const list = headers.get(name) ?? [];
      // MSK gives Java's signed bytes (-128..127); Buffer.from keeps the low 8 bits of each entry
      // (https://nodejs.org/api/buffer.html#static-method-bufferfromarray), which undoes the sign.
      list.push(Buffer.from(bytes));
      headers.set(name, list);
    }
  }
  return headers;
}

/**
 * A record of the event. The value is decoded at once (every consumer reads it); the key and the
 * headers when first read, because the consumers read neither (dead letters carry the raw record),
 * and decoding them was a tenth of the consumer logic's CPU in the `cpu` benchmark.
 */
class MskDecodedRecord implements DecodedRecord {
  readonly topicPartition: string;
  readonly value: Buffer | null;
  private decodedKey: Buffer | null | undefined = undefined;
  private decodedHeaders: Map<string, Buffer[]> | undefined = undefined;

  constructor(readonly raw: MskRecord) {
    this.topicPartition = `${raw.topic}-${raw.partition}`;
    this.value = fromBase64(raw.value);
  }

  get key(): Buffer | null {
    if (this.decodedKey === undefined) this.decodedKey = fromBase64(this.raw.key);
    return this.decodedKey;
  }

  get headers(): ReadonlyMap<string, readonly Buffer[]> {
    if (this.decodedHeaders === undefined) this.decodedHeaders = decodeHeaders(this.raw);
    return this.decodedHeaders;
  }
}

const byOffset = (a: MskRecord, b: MskRecord): number => a.offset - b.offset;

/** Every record of the event, partition by partition, each partition in offset order. */
export function decodeMskEvent(event: MskEvent): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const records of Object.values(event.records ?? {})) {
    // Lambda delivers each partition in offset order; sort a copy only when it is not.
    let sorted = records;
    for (let i = 1; i < records.length; i++) {
      if ((records[i] as MskRecord).offset < (records[i - 1] as MskRecord).offset) {
        sorted = [...records].sort(byOffset);
        break;
      }
    }
    for (const raw of sorted) out.push(new MskDecodedRecord(raw));
  }
  return out;
}

/**
 * Bytes as the MSK event carries them: Java's signed bytes, -128..127 (Lambda's event serializer
 * writes a Java `byte[]`; the published samples, e.g. Powertools' kafka events and the Lambda guide's
 * MSK example, carry negative values). A counted loop: `Array.from` goes through the iterator
 * protocol and took over 20 times as long (11 % of the consumer-path benchmark's CPU).
 */
export function signedBytes(bytes: Uint8Array): number[] {
  const out = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ((bytes[i] as number) << 24) >> 24;
  return out;
}

/** Header bytes as the MSK event carries them (signed, see {@link signedBytes}). */
export function headersToMsk(
  headers: Record<string, string | Buffer | undefined>,
): Record<string, number[]>[] {
  return Object.entries(headers)
    .filter((entry): entry is [string, string | Buffer] => entry[1] !== undefined)
    .map(([name, value]) => ({
      [name]: signedBytes(typeof value === 'string' ? Buffer.from(value) : value),
    }));
}
