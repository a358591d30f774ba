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
/** GET /metrics as a map of each sample (`name{labels}`) to its value. */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`${runtime.apiUrl}/metrics`)).text();
  return new Map(
    text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))] as const;
      }),
  );
}

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
    expect(metrics).toContain('# TYPE kafka_messages_total counter');
    expect(metrics).toContain('# TYPE kafka_message_produce_duration_seconds histogram');
  });

  it('counts records per topic and outcome in /metrics, with the produce latency per topic', async ({
    kafka,
  }) => {
    const before = await scrape();
    const correlationId = unique('metrics');
    const events = [0, 1].map(() => ({
      ...(eventExamples.user_registered[0] as AnyEvent),
      eventId: crypto.randomUUID(),
      correlationId,
    }));
    expect((await post('/events/user/batch', { events })).status).toBe(202);
    await readUntil(
      kafka,
      ['email-events'],
      (m) => decodeEvent(m.message.value)?.correlationId === correlationId,
      2,
    );
    // Produced by the API, consumed by the user consumer, its welcome e-mails produced: read once
    // the derived events are on Kafka (the mapping counts an invocation when it returns).
    await expect
      .poll(async () => {
        const after = await scrape();
        const grown = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
        return {
          produced: grown('kafka_messages_total{topic="user-events",outcome="produced"}'),
          derived: grown('kafka_messages_total{topic="email-events",outcome="produced"}') >= 2,
          consumed: grown('kafka_messages_total{topic="user-events",outcome="consumed"}') >= 2,
          timed: grown('kafka_message_produce_duration_seconds_count{topic="user-events"}') >= 1,
        };
      })
      .toEqual({ produced: 2, derived: true, consumed: true, timed: true });
  });

  it('counts in /metrics the records the analytics function counted, per topic', async () => {
    const before = await scrape();
    const event = {
      ...(eventExamples.user_login[0] as AnyEvent),
      eventId: crypto.randomUUID(),
      occurredAt: new Date().toISOString(),
      correlationId: unique('counted'),
    };
    expect((await post('/events/user', event)).status).toBe(202);
    const name = 'kafka_messages_total{topic="user-events",outcome="counted"}';
    await expect
      .poll(async () => ((await scrape()).get(name) ?? 0) - (before.get(name) ?? 0), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(1);
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
