/**
 * The record written to `<topic>.dlq` for a record that could not be processed.
 *
 * It follows the layout AWS Lambda writes when an MSK event-source mapping's on-failure destination is
 * a Kafka topic, so that one re-drive tool reads both what Lambda wrote and what our handlers wrote:
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
 * (`requestContext`, `responseContext`, `version`, `timestamp`, `KafkaBatchInfo` with `recordInfo`, and
 * `payload`: the invocation event reduced to the one failed record, key and value still base64). The
 * record key is the failed record's key, as Lambda does. DLQ records are plain JSON, never Glue-framed.
 *
 * Conditions: `RetriesExhausted` (Kafka-destination page) and `RetryAttemptsExhausted` /
 * `MaximumPayloadSizeExceeded` (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html) are
 * spellings AWS documents; `RecordAgeExceeded` stands for records dropped by MaximumRecordAgeInSeconds;
 * `SCHEMA_NOT_FOUND` / `DESERIALIZATION_ERROR` are the schema-registry reasons
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html). `RecordRejected`
 * is ours: a handler decided the record can never succeed (invalid payload, contract violation) and
 * dead-lettered it itself. `errorInfo` is our extension, absent from records Lambda writes.
 *
 * Objects that AWS fills stay open (extra properties allowed) so that a field AWS adds later does not
 * make its records invalid.
 */
import { Type } from '@sinclair/typebox';
import { Closed, JSON_SCHEMA_DRAFT, ShortText, StringEnum } from './common';

const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' });

/**
 * The schema a value (key) was deserialized with, when the mapping's schema-registry integration
 * delivers it as JSON (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html):
 * for Glue, `schemaId` is the schema version id. Re-drive frames the JSON again with it, and checks
 * its shape itself (ops/reframe.ts). Any value here: AWS's published samples vary (Powertools'
 * protobuf sample has no `schemaId`), records written before this field was described may carry
 * anything in it, and an empty schema is the only property a BACKWARD-compatible version may add to
 * this open object (PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, schemas/compatibility.ts).
 */
const SchemaMetadata = Type.Unknown({
  description: 'The schema the mapping deserialized it with: {dataFormat, schemaId}, as AWS sends it.',
});

/** One record as the MSK event-source mapping hands it to a function. */
const KafkaEventRecord = Type.Object({
  topic: Type.String({ minLength: 1, maxLength: 249 }),
  partition: Type.Integer({ minimum: 0 }),
  offset: Type.Integer({ minimum: 0 }),
  timestamp: Type.Integer(),
  timestampType: StringEnum(['CREATE_TIME', 'LOG_APPEND_TIME'] as const),
  key: Type.Optional(Type.Union([Base64, Type.Null()])),
  value: Type.Optional(Type.Union([Base64, Type.Null()])),
  headers: Type.Array(Type.Record(Type.String(), Type.Array(Type.Integer({ minimum: -128, maximum: 255 })))),
  keySchemaMetadata: Type.Optional(SchemaMetadata),
  valueSchemaMetadata: Type.Optional(SchemaMetadata),
});

export const DEAD_LETTER_CONDITIONS = [
  'RetriesExhausted',
  'RetryAttemptsExhausted',
  'RecordAgeExceeded',
  'MaximumPayloadSizeExceeded',
  'SCHEMA_NOT_FOUND',
  'DESERIALIZATION_ERROR',
  'RecordRejected',
] as const;

export const deadLetter = Type.Object(
  {
    requestContext: Type.Object({
      requestId: Type.String({ minLength: 1 }),
      functionArn: Type.String({ minLength: 1 }),
      condition: StringEnum(DEAD_LETTER_CONDITIONS),
      approximateInvokeCount: Type.Integer({ minimum: 0 }),
    }),
    responseContext: Type.Optional(
      Type.Union([
        Type.Null(),
        Type.Object({
          statusCode: Type.Optional(Type.Integer()),
          executedVersion: Type.Optional(Type.String()),
          functionError: Type.Optional(Type.String()),
        }),
      ]),
    ),
    version: Type.Literal('1.0'),
    timestamp: Type.String({ format: 'date-time' }),
    KafkaBatchInfo: Type.Object({
      batchSize: Type.Integer({ minimum: 1 }),
      eventSourceArn: Type.String({ minLength: 1 }),
      bootstrapServers: Type.String(),
      payloadSize: Type.Integer({ minimum: 0 }),
      recordInfo: Type.Object({
        offset: Type.String({ pattern: '^[0-9]+$' }),
        timestamp: Type.String({ format: 'date-time' }),
      }),
    }),
    payload: Type.Object({
      eventSource: Type.Literal('aws:kafka'),
      eventSourceArn: Type.String({ minLength: 1 }),
      bootstrapServers: Type.String(),
      records: Type.Record(Type.String(), Type.Array(KafkaEventRecord, { minItems: 1, maxItems: 1 }), {
        minProperties: 1,
        maxProperties: 1,
      }),
    }),
    errorInfo: Type.Optional(
      Closed({
        errorType: Type.String({ minLength: 1, maxLength: 128 }),
        errorMessage: ShortText,
        issues: Type.Optional(
          Type.Array(Closed({ path: Type.String({ maxLength: 1024 }), message: ShortText }), {
            maxItems: 50,
          }),
        ),
        /** The function that dead-lettered the record. */
        handler: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        /** Times processing was attempted before the record was dead-lettered. */
        attempts: Type.Optional(Type.Integer({ minimum: 1 })),
        firstFailureAt: Type.Optional(Type.String({ format: 'date-time' })),
        lastFailureAt: Type.Optional(Type.String({ format: 'date-time' })),
      }),
    ),
  },
  {
    $schema: JSON_SCHEMA_DRAFT,
    title: 'dead_letter',
    description:
      'A Kafka record that could not be processed, and why: the layout Lambda writes to a Kafka on-failure destination.',
  },
);
