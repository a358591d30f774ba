import { readdirSync, readFileSync } from 'node:fs';
import { KafkaMskEventSchema } from '@aws-lambda-powertools/parser/schemas/kafka';
import { describe, expect, it } from 'vitest';
import { decode } from '../../core/glue-wire-format';
import { contractOfSchemaVersionId, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers, eventTypesOf, topicNamed } from '../../core/topology';
import { type ConsumerDependencies, processBatch } from '../../lambdas/consumers/consumer';
import { derivers } from '../../lambdas/consumers/flows';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter, EventType } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import { checkContract } from '../../schemas/validator';
import { framedValue, invocation, jsonValue, mskEvent, type PlainRecord } from '../fixtures/msk';
import { RecordingWriter } from '../support/recording-writer';

const NOW = new Date('2026-11-23T12:00:00.000Z');
const specOf = (name: string) => consumers.find((c) => c.name === name) as ConsumerSpec;

function deps(
  spec: ConsumerSpec,
  writer = new RecordingWriter(),
): ConsumerDependencies & { writer: RecordingWriter } {
  return {
    spec,
    writer,
    schemaVersionIds: schemaVersionIds(undefined),
    contractOf: contractOfSchemaVersionId(undefined),
    now: () => NOW,
  };
}

const record = (
  topic: string,
  offset: number,
  value: Buffer | null,
  extra: Partial<PlainRecord> = {},
): PlainRecord => ({
  topic,
  offset,
  value,
  key: 'user-u-1001',
  headers: { 'content-type': 'application/json' },
  ...extra,
});

const parseDerived = (value: Buffer) => {
  const { schemaVersionId, payload } = decode(value);
  return { schemaVersionId, event: JSON.parse(payload.toString()) as AnyEvent };
};

describe('flows', () => {
  it('has a deriver for every flow of the topology, and no deriver without a flow', () => {
    const flows = consumers.flatMap((c) =>
      Object.entries(c.flows).flatMap(([source, ds]) => (ds ?? []).map((d) => `${source}→${d.eventType}`)),
    );
    const implemented = Object.entries(derivers).flatMap(([source, table]) =>
      Object.keys(table ?? {}).map((d) => `${source}→${d}`),
    );
    expect(implemented.sort()).toEqual([...new Set(flows)].sort());
  });
});

describe.each(consumers)('$name', (spec) => {
  const sourceTopic = topicNamed(spec.sourceTopic);
  const types = eventTypesOf(sourceTopic) as EventType[];

  it.each(types)('turns %s into the derived events of its flow', async (type) => {
    const source = eventExamples[type][0] as AnyEvent;
    const d = deps(spec);
    const event = mskEvent([record(spec.sourceTopic, 41, framedValue(source), { partition: 2 })]);
    const { response, counts } = await processBatch(event, invocation, d);

    expect(response).toEqual({ batchItemFailures: [] });
    const expected = spec.flows[type] ?? [];
    const written = expected.flatMap((flow) => d.writer.messagesTo(flow.topic));
    expect(written).toHaveLength(expected.length);
    expected.forEach((flow, i) => {
      const message = d.writer.messagesTo(flow.topic)[
        expected.slice(0, i).filter((f) => f.topic === flow.topic).length
      ];
      if (!message) throw new Error(`nothing written to ${flow.topic}`);
      const { schemaVersionId, event: derived } = parseDerived(message.value);
      expect(schemaVersionId).toBe(localSchemaVersionId(flow.eventType));
      expect(checkContract(flow.eventType, derived)).toEqual([]);
      expect(derived).toMatchObject({
        eventType: flow.eventType,
        source: spec.name,
        correlationId: source.correlationId,
        causationId: source.eventId,
        occurredAt: NOW.toISOString(),
        schemaVersion: 1,
      });
      const target = topicNamed(flow.topic);
      const keyField = target.key?.field as string;
      expect(message.key).toBe(`${target.key?.prefix}${(derived.data as Record<string, string>)[keyField]}`);
      expect(message.headers).toMatchObject({
        'event-type': flow.eventType,
        'correlation-id': source.correlationId,
      });
    });
    expect(counts.get(type)).toEqual({
      received: 1,
      processed: 1,
      derived: expected.length,
      failed: 0,
      deadLettered: 0,
    });
    expect(d.writer.messagesTo(spec.mapping.onFailureTopic)).toEqual([]);
  });
});

describe('derived events', () => {
  const spec = specOf('user-consumer');
  const source = eventExamples.user_registered[0] as AnyEvent;

  it('carry the same ids when a batch is processed again or a source event was written twice, different ids otherwise', async () => {
    const other = { ...source, eventId: '0b7e3f1c-5d2a-4c8e-9f10-00000000abcd' } as AnyEvent;
    const batch = mskEvent([
      record('user-events', 7, framedValue(source)),
      record('user-events', 8, framedValue(source)), // the same event again, as a client retry writes it
      record('user-events', 9, framedValue(other)),
    ]);
    const first = deps(spec);
    const second = deps(spec);
    await processBatch(batch, invocation, first);
    await processBatch(batch, invocation, second);
    const ids = (d: ReturnType<typeof deps>) =>
      d.writer.messagesTo('email-events').map((m) => parseDerived(m.value).event.eventId);
    expect(ids(first)).toEqual(ids(second));
    expect(ids(first)[0]).toBe(ids(first)[1]);
    expect(new Set(ids(first)).size).toBe(2);
  });

  it('are written again, with the same ids, when their source event arrives twice: no consumer here drops duplicates, as the docs say', async () => {
    const order = specOf('order-consumer');
    const paid = eventExamples.order_paid[0] as AnyEvent;
    const d = deps(order);
    await processBatch(
      mskEvent([record('order-events', 4, framedValue(paid)), record('order-events', 5, framedValue(paid))]),
      invocation,
      d,
    );
    const ids = d.writer.messagesTo('fulfillment-events').map((m) => parseDerived(m.value).event.eventId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    // So no document may promise more than that duplicates carry the same eventId: no deriving
    // consumer drops them (the analytics consumer counts each eventId once, docs/analytics.md).
    const sentencesOf = (doc: string) =>
      readFileSync(new URL(`../../${doc}`, import.meta.url), 'utf8')
        .replace(/\s+/g, ' ')
        .split(/(?<=\.) /)
        .filter((s) => /duplicate/i.test(s));
    const docs = [
      'README.md',
      ...readdirSync(new URL('../../docs/', import.meta.url)).map((f) => `docs/${f}`),
    ];
    for (const doc of docs) {
      const promises = sentencesOf(doc).filter(
        (s) => /drop/.test(s) && !/can drop|none of the deriving consumers/i.test(s),
      );
      expect(promises, `${doc} promises that duplicates are dropped`).toEqual([]);
    }
    // The guarantees and the consumers' description both say so.
    for (const doc of ['docs/guarantees.md', 'docs/architecture.md'])
      expect(
        sentencesOf(doc).some((s) => s.includes('None of the deriving consumers does')),
        `${doc} says no deriving consumer drops duplicates`,
      ).toBe(true);
  });

  it('have the data the flow defines', async () => {
    const d = deps(specOf('order-consumer'));
    const order = eventExamples.order_created[0] as AnyEvent;
    await processBatch(mskEvent([record('order-events', 3, jsonValue(order))]), invocation, d);
    const [message] = d.writer.messagesTo('email-events');
    expect(parseDerived(message?.value as Buffer).event.data).toEqual({
      orderId: 'o-5001',
      userId: 'u-1001',
      itemCount: 3,
      totalAmount: 4248,
      currency: 'EUR',
    });
  });

  it('of a payment go to order-events keyed by order, behind the order events', async () => {
    const d = deps(specOf('payment-consumer'));
    const payment = eventExamples.payment_processed[0] as AnyEvent;
    await processBatch(mskEvent([record('payment-events', 0, framedValue(payment, 'zlib'))]), invocation, d);
    const [message] = d.writer.messagesTo('order-events');
    expect(message?.key).toBe('order-o-5001');
    expect(parseDerived(message?.value as Buffer).event).toMatchObject({
      eventType: 'order_paid',
      data: { paymentId: 'p-9001' },
    });
  });
});

describe('value forms', () => {
  const spec = specOf('user-consumer');
  const source = eventExamples.user_deleted[0] as AnyEvent;
  it.each([
    ['JSON delivered by the schema-registry integration', jsonValue(source)],
    ['Glue-framed, uncompressed', framedValue(source)],
    ['Glue-framed, zlib', framedValue(source, 'zlib')],
  ])('reads %s', async (_, value) => {
    const d = deps(spec);
    const { response } = await processBatch(mskEvent([record('user-events', 1, value)]), invocation, d);
    expect(response.batchItemFailures).toEqual([]);
    expect(d.writer.messagesTo('cleanup-events')).toHaveLength(1);
  });
});

describe('poison records', () => {
  const spec = specOf('user-consumer');
  const good = eventExamples.user_registered[0] as AnyEvent;
  const login = eventExamples.user_login[0] as AnyEvent;
  const framedGood = framedValue(good);
  const unknownSchema = Buffer.concat([Buffer.from([3, 0]), Buffer.alloc(16, 0xab), jsonValue(good)]);
  const mismatched = Buffer.concat([framedValue(login).subarray(0, 18), jsonValue(good)]);
  const cases: {
    why: string;
    value: Buffer | null;
    condition: DeadLetter['requestContext']['condition'];
    errorType: string;
  }[] = [
    { why: 'a tombstone', value: null, condition: 'RecordRejected', errorType: 'EmptyValue' },
    {
      why: 'random bytes',
      value: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]),
      condition: 'RecordRejected',
      errorType: 'DeserializationError',
    },
    {
      why: 'a truncated Glue header',
      value: framedGood.subarray(0, 10),
      condition: 'RecordRejected',
      errorType: 'DeserializationError',
    },
    {
      why: 'an unknown schema version id',
      value: unknownSchema,
      condition: 'RecordRejected',
      errorType: 'SchemaNotFound',
    },
    {
      why: 'a header naming another contract',
      value: mismatched,
      condition: 'RecordRejected',
      errorType: 'SchemaMismatch',
    },
    {
      why: 'invalid UTF-8',
      value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      condition: 'RecordRejected',
      errorType: 'DeserializationError',
    },
    {
      why: 'JSON that is not an event',
      value: Buffer.from('[1,2,3]'),
      condition: 'RecordRejected',
      errorType: 'ContractViolation',
    },
    {
      why: 'valid JSON violating the schema',
      value: jsonValue({ ...good, data: { ...(good.data as object), email: 'nope' } }),
      condition: 'RecordRejected',
      errorType: 'ContractViolation',
    },
    {
      why: 'an unknown event type',
      value: jsonValue({ ...good, eventType: 'user_exploded' }),
      condition: 'RecordRejected',
      errorType: 'ContractViolation',
    },
    {
      why: 'an event of another topic',
      value: framedValue(eventExamples.order_created[0] as AnyEvent),
      condition: 'RecordRejected',
      errorType: 'UnexpectedEventType',
    },
  ];

  it.each(cases)(
    'dead-letters $why with its reason and original bytes, and goes on',
    async ({ value, condition, errorType }) => {
      const d = deps(spec);
      const poison = record('user-events', 11, value, {
        partition: 1,
        key: 'user-u-666',
        headers: { trace: 'abc' },
      });
      const event = mskEvent([
        record('user-events', 10, framedGood, { partition: 1 }),
        poison,
        record('user-events', 12, framedGood, { partition: 1 }),
      ]);
      const { response, counts } = await processBatch(event, invocation, d);

      expect(response.batchItemFailures).toEqual([]);
      expect(d.writer.messagesTo('email-events')).toHaveLength(2);
      const letters = d.writer.messagesTo('user-events.dlq');
      expect(letters).toHaveLength(1);
      const [message] = letters;
      expect(message?.key).toEqual(Buffer.from('user-u-666'));
      expect(message?.headers).toMatchObject({ 'dead-letter-condition': condition });
      const letter = JSON.parse(message?.value.toString() as string) as DeadLetter;
      expect(checkContract('dead_letter', letter)).toEqual([]);
      expect(letter.requestContext).toMatchObject({
        condition,
        requestId: invocation.awsRequestId,
        // Qualified, as in the on-failure record of kafka-on-failure-destination.html.
        functionArn: `${invocation.invokedFunctionArn}:$LATEST`,
      });
      expect(letter.errorInfo).toMatchObject({ errorType, handler: 'user-consumer', attempts: 1 });
      expect(letter.KafkaBatchInfo.recordInfo.offset).toBe('11');
      const original = letter.payload.records['user-events-1']?.[0];
      expect(original).toMatchObject({
        topic: 'user-events',
        partition: 1,
        offset: 11,
        key: Buffer.from('user-u-666').toString('base64'),
      });
      expect(original?.value ?? null).toBe(value === null ? null : value.toString('base64'));
      expect(original?.headers).toEqual([{ trace: [...Buffer.from('abc')] }]);
      const total = [...counts.values()].reduce((n, c) => n + c.deadLettered, 0);
      expect(total).toBe(1);
    },
  );

  it('lists every contract problem of a rejected event in the dead letter', async () => {
    const d = deps(spec);
    const bad = { ...good, eventId: 'x', data: { userId: 'has space', email: 'nope', name: '' } };
    await processBatch(mskEvent([record('user-events', 0, jsonValue(bad))]), invocation, d);
    const letter = JSON.parse(String(d.writer.messagesTo('user-events.dlq')[0]?.value)) as DeadLetter;
    expect(letter.errorInfo?.issues?.map((i) => i.path).sort()).toEqual([
      '/data/email',
      '/data/name',
      '/data/userId',
      '/eventId',
    ]);
  });
});

describe('partial batch response', () => {
  it('reports, when writing fails, each partition from its lowest record with something to write', async () => {
    const spec = specOf('user-consumer');
    const d = deps(spec, RecordingWriter.unavailable());
    const registered = framedValue(eventExamples.user_registered[0] as AnyEvent);
    const login = framedValue(eventExamples.user_login[0] as AnyEvent);
    const event = mskEvent([
      record('user-events', 5, login, { partition: 0 }), // nothing to write: done
      record('user-events', 6, registered, { partition: 0 }),
      record('user-events', 7, registered, { partition: 0 }),
      record('user-events', 20, Buffer.from('junk'), { partition: 3 }), // a dead letter to write
      record('user-events', 21, registered, { partition: 3 }),
      record('user-events', 9, login, { partition: 4 }),
    ]);
    const { response, counts } = await processBatch(event, invocation, d);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'user-events-0', offset: 6 } },
      { itemIdentifier: { partition: 'user-events-3', offset: 20 } },
    ]);
    expect(counts.get('user_registered')).toMatchObject({ received: 3, failed: 3, processed: 0 });
    expect(counts.get('user_login')).toMatchObject({ received: 2, processed: 2, failed: 0 });
  });

  it('is empty when all went well', async () => {
    const d = deps(specOf('user-consumer'));
    const { response } = await processBatch(
      mskEvent([record('user-events', 0, framedValue(eventExamples.user_login[0] as AnyEvent))]),
      invocation,
      d,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(d.writer.writeCount).toBe(0);
  });
});

describe('fixtures', () => {
  it('have the MSK event shape, as Powertools parser reads it', () => {
    const event = mskEvent([
      record('user-events', 0, framedValue(eventExamples.user_registered[0] as AnyEvent), { partition: 0 }),
      record('user-events', 1, jsonValue(eventExamples.user_login[0]), { partition: 1, key: null }),
    ]);
    const parsed = KafkaMskEventSchema.parse(event);
    expect(Object.keys(parsed.records)).toEqual(['user-events-0', 'user-events-1']);
    expect(parsed.records['user-events-0']?.[0]?.headers[0]).toEqual({ 'content-type': 'application/json' });
    expect(parsed.records['user-events-1']?.[0]?.key).toBeUndefined();
  });
});

describe('schema version ids from the deployment', () => {
  it('are used when given, and a missing one is an error rather than a local id', () => {
    const ids = schemaVersionIds({ welcome_email_sent: 'AAAAAAAA-0000-4000-8000-000000000001' });
    expect(ids('welcome_email_sent')).toBe('aaaaaaaa-0000-4000-8000-000000000001');
    expect(() => ids('user_cleanup')).toThrow(
      /SCHEMA_VERSION_IDS has no schema version id for "user_cleanup"/,
    );
    expect(schemaVersionIds(undefined)('user_cleanup')).toBe(localSchemaVersionId('user_cleanup'));
  });
});
