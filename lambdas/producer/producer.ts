/**
 * The producer endpoint's logic, free of Lambda and Kafka wiring so it can be tested directly:
 * API Gateway (REST, proxy) event in, validated events written to Kafka, response out.
 *
 * Routes: `POST /events/{stream}` takes one event; `POST /events/{stream}/batch` takes
 * `{"events": [...]}` with 1–500 events. A request is checked whole before anything is written:
 * one bad event rejects the batch and nothing reaches Kafka.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  FILLED_BY_ENDPOINT,
  fillEndpointFields,
  MAX_BATCH_EVENTS,
  MAX_BODY_BYTES,
} from '../../core/api/limits';
import { eventRecord, type SchemaVersionIds } from '../../core/records';
import { type StreamSpec, streams, topicNamed } from '../../core/topology';
import { contractVersions, isEventType } from '../../schemas/catalogue';
import type { AnyEvent } from '../../schemas/index';
import { checkContract } from '../../schemas/validator';
import { KafkaUnavailableError, type KafkaWriter, type OutgoingMessage } from '../shared/kafka';
import { jsonResponse, type RequestIssue, RequestRejected, ServiceUnavailable, toResponse } from './errors';

/** Room kept in a topic's `max.message.bytes` for the record batch and record overhead. */
const RECORD_OVERHEAD_BYTES = 1024;

export interface ProducerDependencies {
  readonly writer: KafkaWriter;
  readonly schemaVersionIds: SchemaVersionIds;
  readonly now?: () => Date;
  readonly newEventId?: () => string;
  /** Told how many events a request wrote, before the 202 is returned (metrics). */
  readonly onAccepted?: (count: number) => void;
}

/** What the endpoint answers for one accepted event. */
export interface Accepted {
  readonly eventId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * A Kafka offset (an int64): a number while it is a safe integer, which every offset short of 2^53
 * is; a bigint past that.
 */
type Offset = number | bigint;

function offsetOf(text: string): Offset {
  const n = Number(text);
  return Number.isSafeInteger(n + 1) ? n : BigInt(text);
}

function nextOffset(offset: Offset): Offset {
  if (typeof offset === 'bigint') return offset + 1n;
  return Number.isSafeInteger(offset + 1) ? offset + 1 : BigInt(offset) + 1n;
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === wanted && v !== undefined) return v;
  return undefined;
}

const isJsonMediaType = (value: string) => /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(value.trim());

/** The request body as text, after the media type, size and encoding checks. */
function bodyText(event: APIGatewayProxyEvent): string {
  const contentType = header(event, 'content-type');
  if (!contentType || !isJsonMediaType(contentType)) {
    throw new RequestRejected(
      415,
      'UnsupportedMediaType',
      `Content-Type must be application/json${contentType ? `, not ${contentType}` : ''}`,
      [{ location: 'header', path: 'content-type', message: 'must be application/json' }],
      { accept: 'application/json' },
    );
  }
  const charset = /;\s*charset=([^;\s]+)/i.exec(contentType)?.[1];
  if (charset && charset.toLowerCase().replaceAll('"', '') !== 'utf-8') {
    throw new RequestRejected(415, 'UnsupportedMediaType', `charset must be utf-8, not ${charset}`, [
      { location: 'header', path: 'content-type', message: 'charset must be utf-8' },
    ]);
  }
  const raw = event.body ?? '';
  // A text body is only measured (its UTF-8 length), not copied into a buffer.
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : undefined;
  const byteLength = bytes ? bytes.byteLength : Buffer.byteLength(raw, 'utf8');
  if (byteLength > MAX_BODY_BYTES) {
    throw new RequestRejected(
      413,
      'PayloadTooLarge',
      `the body is ${byteLength} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  if (byteLength === 0) {
    throw new RequestRejected(400, 'ValidationError', 'the body is empty', [
      { location: 'body', path: '', message: 'must be a JSON document' },
    ]);
  }
  if (!bytes) return raw;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RequestRejected(400, 'ValidationError', 'the body is not valid UTF-8', [
      { location: 'body', path: '', message: 'must be UTF-8 encoded' },
    ]);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RequestRejected(400, 'ValidationError', 'the body is not valid JSON', [
      { location: 'body', path: '', message: `is not valid JSON: ${(error as Error).message}` },
    ]);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the endpoint fills in an event that leaves it out, for one request. */
interface RequestDefaults {
  readonly correlationId: string;
  readonly occurredAt: string;
  readonly newEventId: () => string;
}

/** Where item `index` of the request is in its body (a JSON Pointer); `undefined` for a single event. */
const pointer = (index: number | undefined) => (index === undefined ? '' : `/events/${index}`);

/** Whether `item` has every field the endpoint would otherwise fill. */
function fillsNothing(item: Record<string, unknown>): boolean {
  for (const field of FILLED_BY_ENDPOINT) if (item[field] === undefined) return false;
  return true;
}

/**
 * Fills what the endpoint may fill, then checks the event against its contract and the stream: the
 * event, or what is wrong with it (`index`: its place in a batch).
 */
function prepare(
  item: unknown,
  index: number | undefined,
  stream: StreamSpec,
  defaults: RequestDefaults,
): AnyEvent | RequestIssue[] {
  if (!isObject(item))
    return [{ location: 'body', path: pointer(index), message: 'must be an event object' }];
  const eventType = item.eventType;
  if (eventType === undefined) {
    return [
      {
        location: 'body',
        path: `${pointer(index)}/eventType`,
        message: "must have required property 'eventType'",
      },
    ];
  }
  if (!isEventType(eventType) || !stream.accepts.includes(eventType)) {
    const known = isEventType(eventType) ? 'is not accepted on' : 'is not an event type of';
    return [
      {
        location: 'body',
        path: `${pointer(index)}/eventType`,
        message: `${JSON.stringify(eventType)} ${known} stream "${stream.name}" (accepted: ${stream.accepts.join(', ')})`,
      },
    ];
  }
  // An event that has every field the endpoint fills is taken as parsed: a copy would be the same
  // object (same keys in the same order, so the same JSON), and the parsed body is ours alone.
  const event = fillsNothing(item)
    ? item
    : fillEndpointFields(item, {
        eventId: defaults.newEventId,
        occurredAt: () => defaults.occurredAt,
        correlationId: () => defaults.correlationId,
        schemaVersion: () => contractVersions[eventType],
      });
  const found = checkContract(eventType, event);
  if (found.length === 0) return event as AnyEvent;
  const at = pointer(index);
  return found.map((i) => ({ location: 'body' as const, path: `${at}${i.path}`, message: i.message }));
}

/** Handles one API Gateway request. Never throws: every outcome is a response. */
export async function handleRequest(
  event: APIGatewayProxyEvent,
  deps: ProducerDependencies,
): Promise<APIGatewayProxyResult> {
  const requestId = event.requestContext?.requestId ?? randomUUID();
  try {
    return await accept(event, deps, requestId);
  } catch (error) {
    return toResponse(error, requestId);
  }
}

async function accept(
  event: APIGatewayProxyEvent,
  deps: ProducerDependencies,
  requestId: string,
): Promise<APIGatewayProxyResult> {
  if (event.httpMethod !== 'POST') {
    throw new RequestRejected(
      405,
      'MethodNotAllowed',
      `${event.httpMethod} is not allowed here; use POST`,
      [],
      { allow: 'POST' },
    );
  }
  const batch = /\/batch\/?$/.test(event.resource ?? event.path ?? '');
  const streamName = event.pathParameters?.stream;
  const stream = streams.find((s) => s.name === streamName);
  if (!stream) {
    throw new RequestRejected(400, 'ValidationError', `unknown stream ${JSON.stringify(streamName ?? '')}`, [
      {
        location: 'path',
        path: 'stream',
        message: `must be one of ${streams.map((s) => s.name).join(', ')}`,
      },
    ]);
  }
  const body = parseJson(bodyText(event));

  let items: readonly unknown[];
  if (batch) {
    if (!isObject(body) || !Array.isArray(body.events)) {
      throw new RequestRejected(400, 'ValidationError', 'a batch is {"events": [...]}', [
        { location: 'body', path: isObject(body) ? '/events' : '', message: 'must be an array of events' },
      ]);
    }
    if (body.events.length === 0 || body.events.length > MAX_BATCH_EVENTS) {
      throw new RequestRejected(
        400,
        'ValidationError',
        `a batch holds 1 to ${MAX_BATCH_EVENTS} events, not ${body.events.length}`,
        [{ location: 'body', path: '/events', message: `must hold 1 to ${MAX_BATCH_EVENTS} events` }],
      );
    }
    const extra = Object.keys(body).filter((k) => k !== 'events');
    if (extra.length > 0) {
      throw new RequestRejected(400, 'ValidationError', 'unknown batch property', [
        { location: 'body', path: '', message: `must not have property ${JSON.stringify(extra[0])}` },
      ]);
    }
    items = body.events;
  } else {
    items = [body];
  }

  const correlationHeader = header(event, 'x-correlation-id');
  if (correlationHeader !== undefined && !/^[\x21-\x7E]{1,128}$/.test(correlationHeader)) {
    throw new RequestRejected(400, 'ValidationError', 'invalid X-Correlation-Id header', [
      {
        location: 'header',
        path: 'x-correlation-id',
        message: 'must be 1 to 128 printable ASCII characters without spaces',
      },
    ]);
  }
  const defaults: RequestDefaults = {
    correlationId: correlationHeader ?? requestId,
    occurredAt: (deps.now?.() ?? new Date()).toISOString(),
    newEventId: deps.newEventId ?? randomUUID,
  };
  const issues: RequestIssue[] = [];
  const events: AnyEvent[] = [];
  for (let i = 0; i < items.length; i++) {
    const prepared = prepare(items[i], batch ? i : undefined, stream, defaults);
    if (Array.isArray(prepared)) for (const issue of prepared) issues.push(issue);
    else events.push(prepared);
  }
  if (issues.length > 0) {
    const n = issues.length;
    throw new RequestRejected(
      400,
      'ValidationError',
      `the request has ${n} problem${n === 1 ? '' : 's'}`,
      issues.slice(0, 100),
    );
  }

  const topic = topicNamed(stream.topic);
  const limit = topic.maxMessageBytes - RECORD_OVERHEAD_BYTES;
  const messages: (OutgoingMessage & { partition: number })[] = [];
  for (let i = 0; i < events.length; i++) {
    const { message } = eventRecord(events[i] as AnyEvent, deps.schemaVersionIds);
    const size = message.value.byteLength + Buffer.byteLength(message.key);
    if (size > limit) {
      throw new RequestRejected(
        413,
        'PayloadTooLarge',
        `an event is ${size} bytes as a record; ${topic.name} takes at most ${limit}`,
        [
          {
            location: 'body',
            path: pointer(batch ? i : undefined),
            message: `is ${size} bytes as a record, more than ${limit}`,
          },
        ],
      );
    }
    messages.push(message);
  }

  let metadata: Awaited<ReturnType<KafkaWriter['send']>>;
  try {
    metadata = await deps.writer.send([{ topic: topic.name, messages }]);
  } catch (error) {
    if (error instanceof KafkaUnavailableError)
      throw new ServiceUnavailable(`events were not accepted: ${error.message}`);
    throw error;
  }

  // One produce request writes each partition's messages contiguously, in order, from its base offset.
  const next = new Map<number, Offset>();
  for (const m of metadata)
    if (m.topicName === topic.name) next.set(m.partition, offsetOf(m.baseOffset ?? '0'));
  const accepted: Accepted[] = [];
  for (let i = 0; i < messages.length; i++) {
    const partition = (messages[i] as OutgoingMessage & { partition: number }).partition;
    const offset = next.get(partition);
    if (offset === undefined) throw new Error(`no acknowledgement for partition ${partition}`);
    next.set(partition, nextOffset(offset));
    accepted.push({
      eventId: (events[i] as AnyEvent).eventId,
      topic: topic.name,
      partition,
      offset: String(offset),
    });
  }
  deps.onAccepted?.(accepted.length);
  return jsonResponse(202, batch ? { results: accepted } : accepted[0]);
}
