/**
 * The OpenAPI 3.0 document of the producer endpoint, built from the contract schemas and the
 * topology, so it cannot drift from what the handler accepts. `npm run openapi` writes it to
 * openapi.json (kept in the repository; a test checks it is current); the local API serves it; the
 * resilience tests fuzz the endpoint from it.
 *
 * OpenAPI 3.0 schemas are a JSON Schema dialect without `const` or `$schema`, so the contracts are
 * adapted: `const: x` becomes `enum: [x]`, `$schema` is dropped. Fields the endpoint fills when absent
 * (`eventId`, `occurredAt`, `correlationId`, `schemaVersion`) are optional in requests.
 */

import { contractSchemas, type EventType } from '../../schemas/index';
import { ANALYTICS_ROUTE, MAX_RANGE_DAYS } from '../analytics-query';
import { streams } from '../topology';
import { FILLED_BY_ENDPOINT, MAX_BATCH_EVENTS, MAX_BODY_BYTES } from './limits';

export { FILLED_BY_ENDPOINT } from './limits';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A contract schema as an OpenAPI 3.0 schema object. */
function toOpenApiSchema(schema: unknown): Json {
  if (Array.isArray(schema)) return schema.map(toOpenApiSchema);
  if (typeof schema !== 'object' || schema === null) return schema as Json;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema') continue;
    if (key === 'const') out.enum = [value as Json];
    // patternProperties is not in OpenAPI 3.0; additionalProperties says the same for `^(.*)$`.
    else if (key === 'patternProperties')
      out.additionalProperties = toOpenApiSchema(Object.values(value as object)[0]);
    else out[key] = toOpenApiSchema(value);
  }
  return out;
}

/** The request schema of one event: its contract with the endpoint-filled fields optional. */
function requestSchema(type: EventType): Json {
  const schema = toOpenApiSchema(JSON.parse(JSON.stringify(contractSchemas[type]))) as Record<string, Json>;
  const required = (schema.required as string[]).filter(
    (f) => !(FILLED_BY_ENDPOINT as readonly string[]).includes(f),
  );
  return { ...schema, required };
}

const errorSchema = {
  type: 'object',
  required: ['error', 'message', 'requestId'],
  properties: {
    error: { type: 'string', example: 'ValidationError' },
    message: { type: 'string' },
    requestId: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['location', 'path', 'message'],
        properties: {
          location: { type: 'string', enum: ['body', 'path', 'query', 'header'] },
          path: {
            type: 'string',
            description: 'JSON Pointer into the body, or the path or query parameter or header name',
          },
          message: { type: 'string' },
        },
      },
    },
  },
};

const acceptedSchema = {
  type: 'object',
  required: ['eventId', 'topic', 'partition', 'offset'],
  properties: {
    eventId: { type: 'string', format: 'uuid' },
    topic: { type: 'string' },
    partition: { type: 'integer', minimum: 0 },
    offset: {
      type: 'string',
      pattern: '^[0-9]+$',
      description: 'Kafka offset (a 64-bit integer, as a string)',
    },
  },
};

const errors = (withTooLarge: boolean) => ({
  '400': {
    description:
      'Unparsable JSON, a contract violation, an unknown stream or event type; lists every problem.',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  ...(withTooLarge
    ? {
        '413': {
          description: `The body exceeds ${MAX_BODY_BYTES} bytes, or an event exceeds its topic's record size.`,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      }
    : {}),
  '415': {
    description: 'Content-Type is not application/json (UTF-8).',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '503': {
    description:
      'Kafka is unreachable or did not acknowledge in time; nothing may have been written. Retry after the given delay, with the same eventIds.',
    headers: {
      'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait before retrying' },
    },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
});

/** The answer of `GET /analytics/daily` (core/analytics-query.ts). */
const dailyAnalyticsSchema = {
  type: 'object',
  required: ['days'],
  properties: {
    days: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_RANGE_DAYS,
      description: 'One entry per day of the range, in order, days without events included.',
      items: {
        type: 'object',
        required: ['date', 'counts', 'revenue', 'activeUsers'],
        properties: {
          date: { type: 'string', format: 'date', description: "The UTC day (of the events' occurredAt)" },
          counts: {
            type: 'object',
            description: 'Events counted, by event type',
            additionalProperties: { type: 'integer', minimum: 0 },
          },
          revenue: {
            type: 'object',
            description: 'By ISO 4217 currency, in minor units: processed payments minus refunded payments',
            additionalProperties: { type: 'integer' },
          },
          activeUsers: {
            type: 'integer',
            minimum: 0,
            description: 'Distinct users who logged in (user_login) that day',
          },
        },
      },
    },
  },
};

/** `GET /analytics/daily`: the daily aggregates of a range of days. */
function analyticsPath(): Json {
  const day = (name: string, what: string) => ({
    name,
    in: 'query',
    required: true,
    schema: { type: 'string', format: 'date' },
    example: '2026-03-05',
    description: `${what} day of the range (UTC, YYYY-MM-DD), included`,
  });
  return {
    get: {
      operationId: 'getDailyAnalytics',
      summary: `Daily counts per event type, revenue per currency and active users, for 1 to ${MAX_RANGE_DAYS} days`,
      parameters: [day('from', 'First'), day('to', 'Last')],
      responses: {
        '200': {
          description: 'The aggregates of each day from `from` to `to`.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/DailyAnalytics' } } },
        },
        '400': {
          description: `A date missing, malformed or not in the calendar, \`from\` after \`to\`, or more than ${MAX_RANGE_DAYS} days; names the parameter.`,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}

/** The OpenAPI document. */
export function buildOpenApiDocument(): Record<string, Json> {
  const accepted = [...new Set(streams.flatMap((s) => s.accepts))];
  const schemas: Record<string, Json> = {
    Error: errorSchema,
    Accepted: acceptedSchema,
    DailyAnalytics: dailyAnalyticsSchema,
  };
  for (const type of accepted) schemas[type] = requestSchema(type);
  const correlationHeader = {
    name: 'X-Correlation-Id',
    in: 'header',
    required: false,
    schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$' },
    description: 'Correlation id for events that carry none; defaults to the request id.',
  };
  // One path per stream (API Gateway routes them all through /events/{stream}), so that each
  // documents exactly the event types its stream accepts.
  const paths: Record<string, Json> = {};
  for (const stream of streams) {
    const event = {
      oneOf: stream.accepts.map((t) => ({ $ref: `#/components/schemas/${t}` })),
      discriminator: { propertyName: 'eventType' },
    };
    paths[`/events/${stream.name}`] = {
      post: {
        operationId: `post${stream.name[0]?.toUpperCase()}${stream.name.slice(1)}Event`,
        summary: `Write one ${stream.name} event to ${stream.topic}`,
        parameters: [correlationHeader],
        requestBody: { required: true, content: { 'application/json': { schema: event } } },
        responses: {
          '202': {
            description: 'Written to Kafka.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
          },
          ...errors(true),
        },
      },
    };
    paths[`/events/${stream.name}/batch`] = {
      post: {
        operationId: `post${stream.name[0]?.toUpperCase()}${stream.name.slice(1)}Events`,
        summary: `Write 1 to ${MAX_BATCH_EVENTS} ${stream.name} events to ${stream.topic}`,
        parameters: [correlationHeader],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['events'],
                properties: {
                  events: { type: 'array', minItems: 1, maxItems: MAX_BATCH_EVENTS, items: event },
                },
              },
            },
          },
        },
        responses: {
          '202': {
            description: 'Every event written, a result per event in request order.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['results'],
                  properties: {
                    results: { type: 'array', items: { $ref: '#/components/schemas/Accepted' } },
                  },
                },
              },
            },
          },
          ...errors(true),
        },
      },
    };
  }
  paths[ANALYTICS_ROUTE] = analyticsPath();
  return {
    openapi: '3.0.3',
    info: {
      title: 'MSK serverless events: producer API',
      version: '1.0.0',
      description:
        'Writes events to Amazon MSK: POST /events/{stream} for one event, POST /events/{stream}/batch for up to ' +
        `${MAX_BATCH_EVENTS}, where {stream} is ${streams.map((s) => s.name).join(', ')}; each stream accepts its own event types. ` +
        'The endpoint fills eventId, occurredAt, correlationId and schemaVersion when absent. A batch is validated whole: ' +
        'one invalid event rejects it and nothing is written. Delivery is at least once: retry a 503 with the same eventIds. ' +
        `GET ${ANALYTICS_ROUTE}?from=YYYY-MM-DD&to=YYYY-MM-DD answers the daily analytics of up to ${MAX_RANGE_DAYS} days, each event counted once.`,
    },
    paths,
    components: { schemas },
  };
}
