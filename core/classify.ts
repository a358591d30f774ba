/**
 * Record classification, the one place that knows how a Kafka value becomes a JSON document or the
 * reason it cannot: Glue decoding, schema lookup and JSON parsing. It knows no contract, so any MSK
 * consumer can use it. The consumer handler (lambdas/consumers/consumer.ts) and the local
 * event-source mapping's schema-registry step (local/esm/poller.ts, which validates with the schema
 * registry it is given) run the same steps; each maps a {@link PoisonRecord} to its own dead-letter
 * condition: the mapping to AWS's (`SCHEMA_NOT_FOUND`, `DESERIALIZATION_ERROR`,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html), the handler to
 * the project's own `RecordRejected`.
 */
import { PoisonRecord } from './dead-letter';
import { decode, type GlueWireFormatError, looksFramed } from './glue-wire-format';

/** One strict UTF-8 decoder (it holds no state between decode calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A value without its Glue header, and the schema version the header named (if it had one). */
export interface Unframed {
  readonly payload: Buffer;
  readonly schemaVersionId: string | undefined;
}

/** The record has no value (a tombstone or an empty record). */
export function emptyValue(value: Buffer | null | undefined): PoisonRecord | undefined {
  if (value && value.byteLength > 0) return undefined;
  return new PoisonRecord('EmptyValue', 'the record has no value (a tombstone or an empty record)');
}

/**
 * The value without its Glue header. `required`: the mapping's schema-registry step, which reads Glue
 * records only; `optional`: the handler, which also reads the JSON the integration delivers.
 */
export function unframe(value: Buffer, framing: 'required' | 'optional'): Unframed | PoisonRecord {
  if (framing === 'required' || looksFramed(value)) {
    try {
      const { payload, schemaVersionId } = decode(value);
      return { payload, schemaVersionId };
    } catch (error) {
      const reason = (error as GlueWireFormatError).message;
      return new PoisonRecord(
        'DeserializationError',
        framing === 'required'
          ? `not a Glue Schema Registry record: ${reason}`
          : `Glue wire format: ${reason}`,
      );
    }
  }
  if (value[0] === 0x03 || value[0] === 0x00) {
    // Starts like a Glue (0x03) or Confluent (0x00) header but is not a valid one.
    return new PoisonRecord(
      'DeserializationError',
      `value starts with byte 0x0${value[0]} but is not a valid Glue-framed record`,
    );
  }
  return { payload: value, schemaVersionId: undefined };
}

/** The record names a schema version the registry does not have. */
export const schemaNotFound = (schemaVersionId: string): PoisonRecord =>
  new PoisonRecord('SchemaNotFound', `schema version ${schemaVersionId} is not in the registry`);

/** The payload as JSON, or why it is not. */
export function parsePayload(payload: Buffer): { json: unknown } | PoisonRecord {
  try {
    return { json: JSON.parse(UTF8.decode(payload)) };
  } catch (error) {
    return new PoisonRecord('DeserializationError', `value is not UTF-8 JSON: ${(error as Error).message}`);
  }
}

/**
 * The condition the event-source mapping's schema-registry step gives a record it cannot pass: an
 * unknown schema is `SCHEMA_NOT_FOUND`, everything else `DESERIALIZATION_ERROR`.
 */
export function asMappingFailure(poison: PoisonRecord): PoisonRecord {
  const condition = poison.errorType === 'SchemaNotFound' ? 'SCHEMA_NOT_FOUND' : 'DESERIALIZATION_ERROR';
  return new PoisonRecord(poison.errorType, poison.message, condition, poison.issues);
}
