/**
 * `npm start`'s runtime end to end on the real broker: HTTP in, derived events and dead letters out,
 * through the same handlers and the local event-source mappings.
 */
import { describe, expect } from 'vitest';
import { decode } from '../../core/glue-wire-format';
import { analytics, consumers, streams } from '../../core/topology';
import { LocalRuntime } from '../../local/runtime';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter, EventType } from '../../schemas/index';
import { kafkaTest } from '../support/fixtures';
import { durableProducer, readUntil, unique } from '../support/kafka-clients';
import { freePort } from '../support/runtime-process';

const it = kafkaTest('runtime-it');
let runtime: LocalRuntime;

it.beforeAll(async ({ brokers }) => {
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort() });
}, 120_000);
it.afterAll(async () => {
  await runtime?.stop();
});

const post = (path: string, body: unknown) =>
  fetch(`${runtime.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Every event derived, directly or through another consumer, from `type`. */
function expectedDerived(type: EventType): EventType[] {
  const out: EventType[] = [];
  for (const c of consumers) {
    for (const d of c.flows[type] ?? []) {
      out.push(d.eventType, ...expectedDerived(d.eventType));
    }
  }
  return out;
}

const DERIVED_TOPICS = [
  'email-events',
  'notification-events',
  'cleanup-events',
  'fulfillment-events',
  'order-events',
];
const decodeEvent = (value: Buffer | null) =>
  value ? (JSON.parse(decode(value).payload.toString()) as AnyEvent) : undefined;

describe('local runtime', () => {
  it('is healthy, serves its OpenAPI document and Prometheus metrics', async () => {
    const health = (await (await fetch(`${runtime.apiUrl}/health`)).json()) as {
      mappings: { name: string; topic: string; pollers: unknown }[];
    };
    expect(health).toMatchObject({ healthy: true, broker: { reachable: true } });
    // A mapping per consumer, and one per analytics source topic.
    const specs = [
      ...consumers.map((c) => ({ name: c.name, topic: c.sourceTopic, mapping: c.mapping })),
      ...analytics.sources.map((s) => ({ name: analytics.name, topic: s.topic, mapping: s.mapping })),
    ];
    expect(health.mappings.map((m) => `${m.name} ${m.topic}`).sort()).toEqual(
      specs.map((s) => `${s.name} ${s.topic}`).sort(),
    );
    // The provisioned pollers each mapping is deployed with, from the same settings as the stack.
    for (const m of health.mappings)
      expect(m.pollers).toEqual(
        specs.find((s) => s.name === m.name && s.topic === m.topic)?.mapping.provisionedPollers,
      );
    expect(
      ((await (await fetch(`${runtime.apiUrl}/openapi.json`)).json()) as { openapi: string }).openapi,
    ).toBe('3.0.3');
    const metrics = await (await fetch(`${runtime.apiUrl}/metrics`)).text();
    expect(metrics).toContain('# TYPE mapping_offset_lag gauge');
    expect(metrics).toContain('# TYPE handler_duration_seconds histogram');
  });

  it('turns POST user_registered into welcome_email_sent with the source event as its cause', async ({
    kafka,
  }) => {
    const correlationId = unique('welcome');
    const response = await post('/events/user', {
      ...eventExamples.user_registered[0],
      eventId: undefined,
      correlationId,
    });
    expect(response.status).toBe(202);
    const { eventId } = (await response.json()) as { eventId: string };
    const [derived] = await readUntil(
      kafka,
      ['email-events'],
      (m) => decodeEvent(m.message.value)?.correlationId === correlationId,
      1,
    );
    expect(decodeEvent(derived?.message.value ?? null)).toMatchObject({
      eventType: 'welcome_email_sent',
      causationId: eventId,
      correlationId,
    });
  });

  it('runs every flow of the event-flows table (docs/architecture.md), including the ones chained through order-events', async ({
    kafka,
  }) => {
    const run = unique('flows');
    const expected: string[] = [];
    for (const stream of streams) {
      const events = stream.accepts.map((type, i) => ({
        ...(eventExamples[type][0] as AnyEvent),
        eventId: crypto.randomUUID(),
        correlationId: `${run}-${stream.name}-${i}`,
      }));
      const response = await post(`/events/${stream.name}/batch`, { events });
      expect(response.status).toBe(202);
      for (const e of events)
        for (const d of expectedDerived(e.eventType)) expected.push(`${e.correlationId} ${d}`);
    }
    const got = await readUntil(
      kafka,
      DERIVED_TOPICS,
      (m) =>
        decodeEvent(m.message.value)?.correlationId.startsWith(`${run}-`) === true &&
        decodeEvent(m.message.value)?.source !== 'storefront-web',
      expected.length,
      30_000,
    );
    const seen = got
      .map((m) => decodeEvent(m.message.value))
      .map((e) => `${e?.correlationId} ${e?.eventType}`);
    expect(seen.sort()).toEqual(expected.sort());
  });

  it('dead-letters a poison record with its reason and still processes the records after it in its partition', async ({
    kafka,
  }) => {
    const run = unique('poison');
    const producer = durableProducer(kafka);
    await producer.connect();
    const key = `user-${run}`;
    const good = (i: number) => ({
      ...(eventExamples.user_deleted[0] as AnyEvent),
      eventId: crypto.randomUUID(),
      correlationId: `${run}-${i}`,
      data: { userId: run, reason: 'admin' },
    });
    // Through the API for the good ones (Glue-framed), straight into the topic for the poison one.
    expect((await post('/events/user', good(0))).status).toBe(202);
    await producer.send({
      topic: 'user-events',
      acks: -1,
      messages: [{ key, value: Buffer.from('{"eventType":"user_deleted"') }],
    });
    expect((await post('/events/user', good(1))).status).toBe(202);
    await producer.disconnect();

    const derived = await readUntil(
      kafka,
      ['cleanup-events'],
      (m) => decodeEvent(m.message.value)?.correlationId.startsWith(`${run}-`) === true,
      2,
    );
    expect(derived).toHaveLength(2);
    const [letter] = await readUntil(kafka, ['user-events.dlq'], (m) => m.message.key?.toString() === key, 1);
    const parsed = JSON.parse(String(letter?.message.value)) as DeadLetter;
    expect(parsed.requestContext.condition).toBe('DESERIALIZATION_ERROR');
    expect(
      Buffer.from(Object.values(parsed.payload.records)[0]?.[0]?.value as string, 'base64').toString(),
    ).toBe('{"eventType":"user_deleted"');
  });
});
