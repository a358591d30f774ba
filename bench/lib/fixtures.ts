/**
 * The data every benchmark sends: user events with every envelope field filled (so the producer
 * handler fills nothing and the bytes it writes are known in advance, for the bare baselines), API
 * Gateway events carrying them, and MSK events as the local event-source mapping delivers them.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { KafkaMessage } from 'kafkajs';
import type { MskEvent, MskRecord } from '../../core/msk-event';
import { eventRecord, schemaVersionIds } from '../../core/records';
import type { OutgoingMessage } from '../../lambdas/shared/kafka';
import { toMskEvent, toMskRecord } from '../../local/esm/msk-records';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, EventType } from '../../schemas/index';

/** Source event types of the user consumer, in the mix the consumer benchmarks read (6:3:1). */
const MIX: readonly EventType[] = [
  'user_registered',
  'user_registered',
  'user_registered',
  'user_registered',
  'user_registered',
  'user_registered',
  'user_updated',
  'user_updated',
  'user_updated',
  'user_deleted',
];

/** A random 8-hex-digit prefix, so event ids differ between runs on a reused cluster. */
export const runSalt = (): string => randomBytes(4).toString('hex');

/** A valid, unique UUID for index `i`. */
export function benchUuid(salt: string, i: number): string {
  return `${salt}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** The `i`-th user event of the mix: every field set, user ids spread over 10,000 keys. */
export function userEvent(i: number, salt: string, type?: EventType): AnyEvent {
  const eventType = type ?? (MIX[i % MIX.length] as EventType);
  const example = eventExamples[eventType][0] as AnyEvent;
  return {
    ...example,
    eventId: benchUuid(salt, i),
    correlationId: `bench-${salt}-${i}`,
    data: { ...example.data, userId: `u-${i % 10_000}` },
  } as AnyEvent;
}

/** The record the producer handler writes for `event` (topic, key, framed value, headers). */
export function recordOf(event: AnyEvent): { topic: string; message: OutgoingMessage & { key: string } } {
  const { topic, message } = eventRecord(event, schemaVersionIds(undefined));
  return { topic: topic.name, message };
}

/** The API Gateway REST proxy event of `POST /events/{stream}[/batch]` with `body`. */
export function apiGatewayEvent(stream: string, body: string, batch: boolean, requestId: string) {
  const resource = batch ? '/events/{stream}/batch' : '/events/{stream}';
  const path = `/events/${stream}${batch ? '/batch' : ''}`;
  return {
    resource,
    path,
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { stream },
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: 'POST',
      identity: { sourceIp: '127.0.0.1', userAgent: 'bench' },
      path,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'bench',
      resourcePath: resource,
    },
  } as unknown as APIGatewayProxyEvent;
}

/** A consumed record as kafkajs hands it over, for building MSK events without a broker. */
function kafkaMessage(message: OutgoingMessage, offset: number): KafkaMessage {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(message.headers ?? {}))
    if (typeof v === 'string') headers[k] = Buffer.from(v);
  return {
    key: typeof message.key === 'string' ? Buffer.from(message.key) : message.key,
    value: message.value,
    headers,
    offset: String(offset),
    timestamp: String(Date.now()),
    attributes: 0,
    size: message.value.byteLength,
  } as unknown as KafkaMessage;
}

/**
 * An MSK event of `events`, as the local mapping delivers it with the Glue schema-registry
 * integration in JSON mode (the deployed setting): the value is the JSON, base64, with
 * `valueSchemaMetadata`. Records are spread over `partitions` partitions of `topic`.
 */
export function mskEventOf(events: readonly AnyEvent[], topic = 'user-events', partitions = 6): MskEvent {
  const ids = schemaVersionIds(undefined);
  const records: MskRecord[] = events.map((event, i) => {
    const { message } = recordOf(event);
    const raw = toMskRecord(topic, i % partitions, kafkaMessage(message, Math.floor(i / partitions)));
    return {
      ...raw,
      value: Buffer.from(JSON.stringify(event)).toString('base64'),
      valueSchemaMetadata: { dataFormat: 'JSON', schemaId: ids(event.eventType) },
    };
  });
  return toMskEvent(records, 'arn:aws:kafka:local:000000000000:cluster/local/local', '127.0.0.1:9092');
}
