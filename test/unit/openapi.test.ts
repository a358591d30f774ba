import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { ANALYTICS_ROUTE, dailyResponse, parseRange } from '../../core/analytics-query';
import { buildOpenApiDocument, FILLED_BY_ENDPOINT } from '../../core/api/openapi';
import { streams } from '../../core/topology';
import { eventExamples } from '../../schemas/examples';
import type { EventType } from '../../schemas/index';

const document = buildOpenApiDocument() as {
  paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
  components: { schemas: Record<string, unknown> };
};

interface Operation {
  parameters: { name: string; in: string; required: boolean; schema: { format?: string } }[];
  responses: Record<string, unknown>;
}

function requestValidator(path: string) {
  const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
  addFormats(ajv);
  // OpenAPI 3.0 schemas are close enough to JSON Schema for this check once refs are resolvable.
  ajv.addSchema({ $id: 'doc', components: document.components }, 'doc');
  const schema = JSON.parse(
    JSON.stringify(document.paths[path]?.post.requestBody.content['application/json']?.schema).replaceAll(
      '"#/components',
      '"doc#/components',
    ),
  );
  return ajv.compile(schema);
}

describe('OpenAPI document', () => {
  it('is the one in the repository (run npm run openapi after changing a contract)', async () => {
    const committed = JSON.parse(await readFile('openapi.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('describes both routes of every stream, and the analytics route', () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      [...streams.flatMap((s) => [`/events/${s.name}`, `/events/${s.name}/batch`]), ANALYTICS_ROUTE].sort(),
    );
  });

  it('describes GET /analytics/daily: both dates required, the answer the function builds, the errors', () => {
    const get = (document.paths[ANALYTICS_ROUTE] as unknown as Record<string, Operation>).get as Operation;
    expect(get.parameters.map((p) => [p.name, p.in, p.required, p.schema.format])).toEqual([
      ['from', 'query', true, 'date'],
      ['to', 'query', true, 'date'],
    ]);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '400']);
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc', components: document.components }, 'doc');
    const answer = ajv.getSchema('doc#/components/schemas/DailyAnalytics');
    const range = parseRange('2026-03-05', '2026-03-06');
    if (!range.ok) throw new Error(range.problem.message);
    const built = dailyResponse(
      range.days,
      new Map([['2026-03-06', { count_user_login: 2, revenue_EUR: -300 }]]),
      new Map([['2026-03-06', 1]]),
    );
    expect(answer?.(JSON.parse(JSON.stringify(built))), JSON.stringify(answer?.errors)).toBe(true);
    expect(answer?.({ days: [{ date: '2026-03-05', counts: { x: -1 }, revenue: {}, activeUsers: 0 }] })).toBe(
      false,
    );
    const error = ajv.getSchema('doc#/components/schemas/Error');
    const rejected = {
      error: 'ValidationError',
      message: 'to "2026-02-30" is not a calendar date',
      requestId: 'r',
      issues: [{ location: 'query', path: 'to', message: 'to "2026-02-30" is not a calendar date' }],
    };
    expect(error?.(rejected), JSON.stringify(error?.errors)).toBe(true);
  });

  it('accepts on each stream every example of the events it accepts, with and without the fields the endpoint fills', () => {
    for (const stream of streams) {
      const validate = requestValidator(`/events/${stream.name}`);
      for (const type of stream.accepts as EventType[]) {
        for (const example of eventExamples[type]) {
          expect(validate(example), `${type}: ${JSON.stringify(validate.errors)}`).toBe(true);
          const bare = Object.fromEntries(
            Object.entries(example).filter(([k]) => !(FILLED_BY_ENDPOINT as readonly string[]).includes(k)),
          );
          expect(validate(bare), `${type} without filled fields`).toBe(true);
        }
      }
    }
  });

  it('refuses events of other streams, derived events, unknown types and batches out of bounds', () => {
    const one = requestValidator('/events/user');
    expect(one(eventExamples.order_created[0])).toBe(false);
    expect(one(eventExamples.welcome_email_sent[0])).toBe(false);
    expect(requestValidator('/events/order')(eventExamples.order_paid[0])).toBe(false);
    expect(one({ ...eventExamples.user_registered[0], eventType: 'nope' })).toBe(false);
    const batch = requestValidator('/events/user/batch');
    expect(batch({ events: [eventExamples.user_login[0]] })).toBe(true);
    expect(batch({ events: [] })).toBe(false);
    expect(batch({ events: Array.from({ length: 501 }, () => eventExamples.user_login[0]) })).toBe(false);
  });
});
