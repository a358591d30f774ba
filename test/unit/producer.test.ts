import { describe, expect, it } from 'vitest';
import { MAX_BATCH_EVENTS, MAX_BODY_BYTES } from '../../core/api/limits';
import { decode } from '../../core/glue-wire-format';
import { schemaVersionIds } from '../../core/records';
import { handleRequest } from '../../lambdas/producer/producer';
import { eventExamples } from '../../schemas/examples';
import type { EventOf } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import { apiRequest, type RequestOptions } from '../fixtures/api-gateway';
import { RecordingWriter } from '../support/recording-writer';

const registered = eventExamples.user_registered[0] as EventOf<'user_registered'>;
const NOW = new Date('2026-11-23T12:00:00.000Z');

async function call(options: RequestOptions, writer = new RecordingWriter()) {
  let n = 0;
  const accepted: number[] = [];
  const response = await handleRequest(apiRequest(options), {
    writer,
    schemaVersionIds: schemaVersionIds(undefined),
    now: () => NOW,
    newEventId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    onAccepted: (count) => accepted.push(count),
  });
  return { response, body: JSON.parse(response.body), writer, accepted };
}

describe('producer endpoint: accepted events', () => {
  it('writes one event Glue-framed, keyed by entity, with its headers, and answers 202 with where it went', async () => {
    const { response, body, writer, accepted } = await call({ body: JSON.stringify(registered) });
    expect(response.statusCode).toBe(202);
    expect(accepted).toEqual([1]);
    const [message] = writer.messagesTo('user-events');
    expect(body).toEqual({
      eventId: registered.eventId,
      topic: 'user-events',
      partition: message?.partition,
      offset: '0',
    });
    expect(message?.key).toBe('user-u-1001');
    const { schemaVersionId, payload } = decode(message?.value as Buffer);
    expect(schemaVersionId).toBe(localSchemaVersionId('user_registered'));
    expect(JSON.parse(payload.toString())).toEqual(registered);
    expect(message?.headers).toEqual({
      'content-type': 'application/vnd.aws.glue.schema-registry+json',
      'event-type': 'user_registered',
      'correlation-id': registered.correlationId,
      'schema-version-id': localSchemaVersionId('user_registered'),
    });
  });

  it('fills eventId, occurredAt, correlationId and schemaVersion when absent', async () => {
    const { eventId: _, occurredAt: __, correlationId: ___, schemaVersion: ____, ...bare } = registered;
    const { response, writer } = await call({
      body: JSON.stringify(bare),
      headers: { 'content-type': 'application/json; charset=utf-8', 'X-Correlation-Id': 'checkout-42' },
    });
    expect(response.statusCode).toBe(202);
    const written = JSON.parse(
      decode(writer.messagesTo('user-events')[0]?.value as Buffer).payload.toString(),
    );
    expect(written).toMatchObject({
      eventId: '00000000-0000-4000-8000-000000000001',
      occurredAt: NOW.toISOString(),
      correlationId: 'checkout-42',
      schemaVersion: 1,
    });
  });

  it('takes the request id as correlation id when the client gives none', async () => {
    const { correlationId: _, ...bare } = registered;
    const { writer } = await call({ body: JSON.stringify(bare) });
    const written = JSON.parse(
      decode(writer.messagesTo('user-events')[0]?.value as Buffer).payload.toString(),
    );
    expect(written.correlationId).toBe('b7f8a1c2-3d4e-4f50-8a6b-7c8d9e0f1a2b');
  });

  it('writes a batch in one request, in order, and answers with a result per event', async () => {
    const events = Array.from({ length: 12 }, (_, i) => ({
      ...registered,
      eventId: `0b7e3f1c-5d2a-4c8e-9f10-${String(i).padStart(12, '0')}`,
      data: { ...registered.data, userId: `u-${i % 4}` },
    }));
    const { response, body, writer, accepted } = await call({
      batch: true,
      body: JSON.stringify({ events }),
    });
    expect(response.statusCode).toBe(202);
    expect(writer.batches).toHaveLength(1);
    expect(accepted).toEqual([12]);
    expect(body.results.map((r: { eventId: string }) => r.eventId)).toEqual(events.map((e) => e.eventId));
    // Same key, same partition; offsets count up per partition in request order.
    const byKey = new Map<string, { partition: number; offset: string }[]>();
    body.results.forEach((r: { partition: number; offset: string }, i: number) => {
      const key = events[i]?.data.userId as string;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    });
    for (const results of byKey.values()) {
      expect(new Set(results.map((r) => r.partition)).size).toBe(1);
      const offsets = results.map((r) => Number(r.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('counts offsets exactly past 2^53, where a number would round', async () => {
    // Kafka offsets are int64: a partition's base offset may exceed Number.MAX_SAFE_INTEGER.
    const events = Array.from({ length: 4 }, (_, i) => ({
      ...registered,
      eventId: `0b7e3f1c-5d2a-4c8e-9f10-${String(i).padStart(12, '0')}`,
    }));
    const writer = new RecordingWriter();
    const send = writer.send.bind(writer);
    writer.send = async (batch) =>
      (await send(batch)).map((m) => ({ ...m, baseOffset: String(2n ** 53n - 2n) }));
    const { response, body } = await call({ batch: true, body: JSON.stringify({ events }) }, writer);
    expect(response.statusCode).toBe(202);
    expect(body.results.map((r: { offset: string }) => r.offset)).toEqual([
      '9007199254740990',
      '9007199254740991',
      '9007199254740992',
      '9007199254740993',
    ]);
  });

  it('writes an event that needs nothing filled exactly as sent: same keys, same order', async () => {
    // Keys in an order of the client's own: the record holds the event's JSON in that order.
    const { data, eventType, ...envelope } = registered;
    const reordered = { data, ...envelope, eventType };
    const { response, writer } = await call({ body: JSON.stringify(reordered) });
    expect(response.statusCode).toBe(202);
    const payload = decode(writer.messagesTo('user-events')[0]?.value as Buffer).payload.toString();
    expect(payload).toBe(JSON.stringify(reordered));
  });

  it('accepts a base64-encoded body', async () => {
    const { response } = await call({ body: JSON.stringify(registered), base64: true });
    expect(response.statusCode).toBe(202);
  });
});

describe('producer endpoint: rejected requests write nothing', () => {
  const valid = JSON.stringify(registered);
  const bad = { ...registered, data: { ...registered.data, email: 'not-an-email' } };
  const cases: {
    why: string;
    options: RequestOptions;
    status: number;
    issue?: { location?: string; path: string; message?: RegExp };
  }[] = [
    {
      why: 'unparsable JSON',
      options: { body: '{"eventType": ' },
      status: 400,
      issue: { path: '', message: /not valid JSON/ },
    },
    {
      why: 'truncated JSON',
      options: { body: valid.slice(0, 40) },
      status: 400,
      issue: { path: '', message: /not valid JSON/ },
    },
    {
      why: 'an empty body',
      options: { body: '' },
      status: 400,
      issue: { path: '', message: /JSON document/ },
    },
    { why: 'no body', options: { body: null }, status: 400, issue: { path: '' } },
    {
      why: 'a JSON array for one event',
      options: { body: '[]' },
      status: 400,
      issue: { path: '', message: /event object/ },
    },
    {
      why: 'a schema violation',
      options: { body: JSON.stringify(bad) },
      status: 400,
      issue: { path: '/data/email', message: /format "email"/ },
    },
    {
      why: 'a wrong type',
      options: { body: JSON.stringify({ ...registered, schemaVersion: '1' }) },
      status: 400,
      issue: { path: '/schemaVersion' },
    },
    {
      why: 'a missing required field',
      options: { body: JSON.stringify({ ...registered, source: undefined }) },
      status: 400,
      issue: { path: '/source', message: /required/ },
    },
    {
      why: 'an unknown stream',
      options: { stream: 'inventory', body: valid },
      status: 400,
      issue: { location: 'path', path: 'stream' },
    },
    {
      why: 'an unknown event type',
      options: { body: JSON.stringify({ ...registered, eventType: 'user_teleported' }) },
      status: 400,
      issue: { path: '/eventType', message: /not an event type of stream "user"/ },
    },
    {
      why: 'an event type of another stream',
      options: { stream: 'order', body: valid },
      status: 400,
      issue: { path: '/eventType', message: /not accepted on stream "order"/ },
    },
    {
      why: 'a derived event type posted by a client',
      options: { stream: 'order', body: JSON.stringify(eventExamples.order_paid[0]) },
      status: 400,
      issue: { path: '/eventType', message: /not accepted/ },
    },
    {
      why: 'a __proto__ key',
      options: { body: valid.replace('"data":{', '"data":{"__proto__":{"admin":true},') },
      status: 400,
      issue: { path: '/data', message: /must not have property "__proto__"/ },
    },
    {
      why: 'a batch that is not {"events": [...]}',
      options: { batch: true, body: valid },
      status: 400,
      issue: { path: '/events' },
    },
    {
      why: 'an empty batch',
      options: { batch: true, body: '{"events":[]}' },
      status: 400,
      issue: { path: '/events' },
    },
    {
      why: `a batch of ${MAX_BATCH_EVENTS + 1}`,
      options: {
        batch: true,
        body: JSON.stringify({ events: Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => registered) }),
      },
      status: 400,
      issue: { path: '/events', message: /1 to 500/ },
    },
    {
      why: 'a batch with one bad event among good ones',
      options: {
        batch: true,
        body: JSON.stringify({ events: [registered, registered, registered, bad, registered] }),
      },
      status: 400,
      issue: { path: '/events/3/data/email' },
    },
    { why: 'a body above the size limit', options: { body: 'x'.repeat(MAX_BODY_BYTES + 1) }, status: 413 },
    {
      why: 'no content type',
      options: { body: valid, headers: {} },
      status: 415,
      issue: { location: 'header', path: 'content-type' },
    },
    { why: 'text/plain', options: { body: valid, headers: { 'content-type': 'text/plain' } }, status: 415 },
    {
      why: 'a charset other than UTF-8',
      options: { body: valid, headers: { 'content-type': 'application/json; charset=latin1' } },
      status: 415,
    },
    { why: 'GET', options: { method: 'GET', body: null }, status: 405 },
    {
      why: 'an explicit null where the endpoint fills absent fields',
      options: { body: JSON.stringify({ ...registered, schemaVersion: null, eventId: null }) },
      status: 400,
      issue: { path: '/schemaVersion' },
    },
    {
      why: 'an X-Correlation-Id header that is too long',
      options: {
        body: valid,
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'c'.repeat(129) },
      },
      status: 400,
      issue: { location: 'header', path: 'x-correlation-id' },
    },
  ];

  it.each(cases)('$why → $status', async ({ options, status, issue }) => {
    const { response, body, writer } = await call(options);
    expect(response.statusCode).toBe(status);
    expect(response.headers?.['content-type']).toMatch(/^application\/json/);
    expect(body.error).toEqual(expect.any(String));
    expect(body.message).toEqual(expect.any(String));
    expect(body.requestId).toBe('b7f8a1c2-3d4e-4f50-8a6b-7c8d9e0f1a2b');
    if (issue) {
      expect(body.issues).toContainEqual(
        expect.objectContaining({
          location: issue.location ?? expect.any(String),
          path: issue.path,
          message: issue.message ? expect.stringMatching(issue.message) : expect.any(String),
        }),
      );
    }
    expect(writer.writeCount).toBe(0);
  });

  it('rejects a body that is not UTF-8', async () => {
    const response = await handleRequest(
      {
        ...apiRequest({ body: null }),
        body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'),
        isBase64Encoded: true,
      },
      { writer: new RecordingWriter(), schemaVersionIds: schemaVersionIds(undefined) },
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).issues[0].message).toMatch(/UTF-8/);
  });

  it('lists every problem of every event of a batch', async () => {
    const events = [{ ...bad }, { eventType: 'user_registered' }, 42];
    const { body } = await call({ batch: true, body: JSON.stringify({ events }) });
    const paths = body.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain('/events/0/data/email');
    expect(paths).toContain('/events/1/data');
    expect(paths).toContain('/events/1/source');
    expect(paths).toContain('/events/2');
  });
});

describe('producer endpoint: Kafka trouble', () => {
  it('answers 503 with Retry-After when Kafka does not take the write', async () => {
    const { response, body, accepted } = await call(
      { body: JSON.stringify(registered) },
      RecordingWriter.unavailable(),
    );
    expect(response.statusCode).toBe(503);
    expect(accepted).toEqual([]);
    expect(response.headers?.['retry-after']).toBe('5');
    expect(body.error).toBe('ServiceUnavailable');
  });

  it('answers 500 without internals for an unexpected failure', async () => {
    const writer = new RecordingWriter();
    writer.failWith = new Error('secret internal detail at /var/task/index.js:1:2');
    const { response } = await call({ body: JSON.stringify(registered) }, writer);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/secret|\/var\/task|at /);
  });
});
