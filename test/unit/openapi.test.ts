import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, FILLED_BY_ENDPOINT } from '../../core/api/openapi';
import { streams } from '../../core/topology';
import { eventExamples } from '../../schemas/examples';
import type { EventType } from '../../schemas/index';

const document = buildOpenApiDocument() as {
  paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
  components: { schemas: Record<string, unknown> };
};

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

  it('describes both routes of every stream', () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      streams.flatMap((s) => [`/events/${s.name}`, `/events/${s.name}/batch`]).sort(),
    );
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
