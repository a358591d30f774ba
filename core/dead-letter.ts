/**
 * Dead-letter records written by the handlers, in the layout Lambda itself writes to a Kafka
 * on-failure destination (schemas/dead-letter.ts has the contract and its sources), so one re-drive
 * tool reads both. The failed record travels unchanged: key and value base64 as received, headers
 * as the byte arrays received, topic, partition, offset and timestamp. The Kafka record written to
 * `<topic>.dlq` keeps the original key (Lambda does the same), so a key's dead letters stay in order.
 */
import type { DeadLetter } from '../schemas/index';
import type { OutgoingMessage } from './kafka-records';
import type { DecodedRecord, MskEvent } from './msk-event';

/** Why a record can never be processed; becomes `errorInfo`. */
export class PoisonRecord extends Error {
  override readonly name = 'PoisonRecord';
  constructor(
    /** A short class of failure: `DeserializationError`, `SchemaNotFound`, `ContractViolation`... */
    readonly errorType: string,
    message: string,
    readonly condition: DeadLetter['requestContext']['condition'] = 'RecordRejected',
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export interface InvocationInfo {
  readonly awsRequestId: string;
  readonly invokedFunctionArn: string;
  readonly functionName: string;
  /** The version that ran (`$LATEST` unless a version or alias was invoked). @default '$LATEST' */
  readonly functionVersion?: string;
}

/**
 * The function ARN as Lambda writes it in an on-failure record: qualified with the version that ran
 * (the Kafka destination example of https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
 * has `arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST`). An event-source mapping
 * invokes the unqualified ARN unless it was created on a version or alias, so the context's
 * `invokedFunctionArn` is qualified here when it is not already.
 */
function qualifiedFunctionArn(invokedFunctionArn: string, version = '$LATEST'): string {
  // arn:partition:lambda:region:account:function:name[:qualifier]
  return invokedFunctionArn.split(':').length >= 8 ? invokedFunctionArn : `${invokedFunctionArn}:${version}`;
}

/** Header on the dead-letter Kafka record naming the condition, for consumers that filter by it. */
const DEAD_LETTER_CONDITION_HEADER = 'dead-letter-condition';

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** What the event-source mapping knows of a record it gives up on (the handler leaves these out). */
export interface DeliveryHistory {
  /** Invocations that included the record. @default 1 */
  readonly approximateInvokeCount?: number;
  /** The last invocation's outcome; null when the function never ran. @default null */
  readonly responseContext?: DeadLetter['responseContext'];
  /** When processing the record first failed. @default now */
  readonly firstFailureAt?: Date;
}

/** The dead-letter document for `record`. */
export function deadLetterFor(
  record: DecodedRecord,
  event: Pick<MskEvent, 'eventSourceArn' | 'bootstrapServers'>,
  failure: PoisonRecord,
  invocation: InvocationInfo,
  now: Date,
  history: DeliveryHistory = {},
): DeadLetter {
  const raw = record.raw;
  const original = {
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    timestamp: raw.timestamp,
    timestampType: raw.timestampType,
    key: raw.key ?? null,
    value: raw.value ?? null,
    headers: (raw.headers ?? []).map((h) => ({ ...h })) as Record<string, number[]>[],
    // The schema version the mapping decoded the value (key) with: re-drive frames it again with it.
    ...(raw.valueSchemaMetadata ? { valueSchemaMetadata: { ...raw.valueSchemaMetadata } } : {}),
    ...(raw.keySchemaMetadata ? { keySchemaMetadata: { ...raw.keySchemaMetadata } } : {}),
  };
  const eventSourceArn = event.eventSourceArn ?? 'unknown';
  const at = now.toISOString();
  return {
    requestContext: {
      requestId: invocation.awsRequestId,
      functionArn: qualifiedFunctionArn(invocation.invokedFunctionArn, invocation.functionVersion),
      condition: failure.condition,
      approximateInvokeCount: history.approximateInvokeCount ?? 1,
    },
    responseContext: history.responseContext ?? null,
    version: '1.0',
    timestamp: at,
    KafkaBatchInfo: {
      batchSize: 1,
      eventSourceArn,
      bootstrapServers: event.bootstrapServers,
      payloadSize: (raw.key?.length ?? 0) + (raw.value?.length ?? 0),
      recordInfo: { offset: String(raw.offset), timestamp: new Date(raw.timestamp).toISOString() },
    },
    payload: {
      eventSource: 'aws:kafka',
      eventSourceArn,
      bootstrapServers: event.bootstrapServers,
      records: { [record.topicPartition]: [original] },
    },
    errorInfo: {
      errorType: clip(failure.errorType, 128),
      errorMessage: clip(failure.message || failure.errorType, 1000),
      ...(failure.issues.length > 0
        ? {
            issues: failure.issues
              .slice(0, 50)
              .map((i) => ({ path: clip(i.path, 1024), message: clip(i.message, 1000) })),
          }
        : {}),
      handler: invocation.functionName,
      attempts: Math.max(1, history.approximateInvokeCount ?? 1),
      firstFailureAt: (history.firstFailureAt ?? now).toISOString(),
      lastFailureAt: at,
    },
  };
}

/** The Kafka record carrying a dead letter: plain JSON, the original key. */
export function deadLetterMessage(record: DecodedRecord, letter: DeadLetter): OutgoingMessage {
  return {
    key: record.key,
    value: Buffer.from(JSON.stringify(letter), 'utf8'),
    headers: {
      'content-type': 'application/json',
      [DEAD_LETTER_CONDITION_HEADER]: letter.requestContext.condition,
    },
  };
}
