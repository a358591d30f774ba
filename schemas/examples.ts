/**
 * Valid examples and invalid counter-examples of every contract. The tests check that each schema
 * accepts every example and rejects every counter-example with a problem at the stated path; other
 * tests and the benchmarks use the examples as realistic fixtures. The examples are typed with the
 * inferred event types, so a schema change that breaks them fails the type check as well.
 */
import type { ContractName, DeadLetter, EventOf, EventType } from './index';

type Envelope<T extends EventType> = Omit<EventOf<T>, 'data' | 'eventType'>;

const base = (n: number): Envelope<EventType> => ({
  eventId: `0b7e3f1c-5d2a-4c8e-9f10-${String(n).padStart(12, '0')}`,
  occurredAt: '2026-11-23T09:15:00.000Z',
  source: 'storefront-web',
  correlationId: `req-${n}`,
  schemaVersion: 1,
});

function ev<T extends EventType>(
  eventType: T,
  data: EventOf<T>['data'],
  extra: Partial<Envelope<T>> = {},
  n = 1,
) {
  return { ...base(n), ...extra, eventType, data } as EventOf<T>;
}

/** At least one valid instance of every event contract, the first one minimal where fields are optional. */
export const eventExamples: { readonly [T in EventType]: readonly EventOf<T>[] } = {
  user_registered: [
    ev('user_registered', { userId: 'u-1001', email: 'ada@example.com', name: 'Ada Lovelace' }),
    ev(
      'user_registered',
      { userId: 'u-1002', email: 'joao.nandu@exemplo.pt', name: 'João Ñandú', locale: 'pt-BR' },
      {
        occurredAt: '2026-11-23T10:15:00.123+01:00',
      },
    ),
  ],
  user_updated: [
    ev('user_updated', { userId: 'u-1001', changes: { name: 'Ada King' } }),
    ev('user_updated', { userId: 'u-1001', changes: { email: 'ada@king.example', locale: 'en-GB' } }),
  ],
  user_deleted: [
    ev('user_deleted', { userId: 'u-1001', reason: 'user_request' }),
    ev('user_deleted', { userId: 'u-1002', reason: 'fraud', note: 'chargebacks on three orders' }),
  ],
  user_login: [
    ev('user_login', { userId: 'u-1001', method: 'password' }),
    ev('user_login', {
      userId: 'u-1001',
      method: 'sso',
      mfa: true,
      ipAddress: '2001:db8::1',
      userAgent: 'Mozilla/5.0',
    }),
    ev('user_login', { userId: 'u-1001', method: 'passkey', ipAddress: '192.0.2.10' }),
  ],
  order_created: [
    ev('order_created', {
      orderId: 'o-5001',
      userId: 'u-1001',
      items: [
        { sku: 'BOOK-42', quantity: 2, unitPrice: 1999 },
        { sku: 'PEN.blue', quantity: 1, unitPrice: 250 },
      ],
      totalAmount: 4248,
      currency: 'EUR',
    }),
  ],
  order_updated: [
    ev('order_updated', { orderId: 'o-5001', userId: 'u-1001', status: 'shipped' }),
    ev('order_updated', {
      orderId: 'o-5001',
      userId: 'u-1001',
      status: 'delivered',
      previousStatus: 'shipped',
    }),
  ],
  order_cancelled: [
    ev('order_cancelled', { orderId: 'o-5002', userId: 'u-1001', reason: 'customer_request' }),
    ev('order_cancelled', { orderId: 'o-5003', userId: 'u-1001', reason: 'other', note: 'duplicate order' }),
  ],
  order_paid: [
    ev(
      'order_paid',
      { orderId: 'o-5001', userId: 'u-1001', paymentId: 'p-9001', amount: 4248, currency: 'EUR' },
      { source: 'payment-consumer', causationId: '0b7e3f1c-5d2a-4c8e-9f10-000000000042' },
    ),
  ],
  order_refunded: [
    ev('order_refunded', {
      orderId: 'o-5001',
      userId: 'u-1001',
      paymentId: 'p-9001',
      refundId: 'r-1',
      amount: 1999,
      currency: 'EUR',
    }),
  ],
  payment_processed: [
    ev('payment_processed', {
      paymentId: 'p-9001',
      orderId: 'o-5001',
      userId: 'u-1001',
      amount: 4248,
      currency: 'EUR',
      method: 'card',
    }),
  ],
  payment_failed: [
    ev('payment_failed', {
      paymentId: 'p-9002',
      orderId: 'o-5004',
      userId: 'u-1001',
      amount: 0,
      currency: 'USD',
      method: 'wallet',
      failureCode: 'insufficient_funds',
    }),
    ev('payment_failed', {
      paymentId: 'p-9003',
      orderId: 'o-5004',
      userId: 'u-1001',
      amount: 1200,
      currency: 'USD',
      method: 'card',
      failureCode: 'card_declined',
      failureMessage: 'The card issuer declined the payment.',
    }),
  ],
  payment_refunded: [
    ev('payment_refunded', {
      paymentId: 'p-9001',
      refundId: 'r-1',
      orderId: 'o-5001',
      userId: 'u-1001',
      amount: 1999,
      currency: 'EUR',
      reason: 'one book returned',
    }),
  ],
  welcome_email_sent: [
    ev(
      'welcome_email_sent',
      { userId: 'u-1001', email: 'ada@example.com', name: 'Ada Lovelace' },
      {
        source: 'user-consumer',
        causationId: '0b7e3f1c-5d2a-4c8e-9f10-000000000001',
      },
    ),
  ],
  profile_updated: [ev('profile_updated', { userId: 'u-1001', changes: { name: 'Ada King' } })],
  user_cleanup: [ev('user_cleanup', { userId: 'u-1001', reason: 'user_request' })],
  order_confirmation_sent: [
    ev('order_confirmation_sent', {
      orderId: 'o-5001',
      userId: 'u-1001',
      itemCount: 3,
      totalAmount: 4248,
      currency: 'EUR',
    }),
  ],
  order_cancellation_sent: [
    ev('order_cancellation_sent', { orderId: 'o-5002', userId: 'u-1001', reason: 'customer_request' }),
  ],
  order_status_changed: [
    ev('order_status_changed', {
      orderId: 'o-5001',
      userId: 'u-1001',
      status: 'paid',
      previousStatus: 'confirmed',
    }),
  ],
  fulfillment_requested: [
    ev('fulfillment_requested', { orderId: 'o-5001', userId: 'u-1001', paymentId: 'p-9001' }),
  ],
  payment_failure_notified: [
    ev('payment_failure_notified', {
      paymentId: 'p-9002',
      orderId: 'o-5004',
      userId: 'u-1001',
      failureCode: 'insufficient_funds',
      amount: 1200,
      currency: 'USD',
    }),
  ],
  refund_confirmation_sent: [
    ev('refund_confirmation_sent', {
      orderId: 'o-5001',
      userId: 'u-1001',
      refundId: 'r-1',
      amount: 1999,
      currency: 'EUR',
    }),
  ],
};

/** A dead letter as AWS Lambda writes it (documented example), and one written by our handler. */
const deadLetterExamples: readonly DeadLetter[] = [
  {
    requestContext: {
      requestId: 'e4b46cbf-b738-4a2b-8880-a18cdf61200e',
      functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:user-consumer:$LATEST',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-11-23T18:16:05.568Z',
    KafkaBatchInfo: {
      batchSize: 1,
      eventSourceArn: 'arn:aws:kafka:us-east-1:111122223333:cluster/events/abc123',
      bootstrapServers: 'b-1.events.abc123.kafka.us-east-1.amazonaws.com:9098',
      payloadSize: 1162,
      recordInfo: { offset: '100', timestamp: '2026-11-23T18:16:04.835Z' },
    },
    payload: {
      bootstrapServers: 'b-1.events.abc123.kafka.us-east-1.amazonaws.com:9098',
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:us-east-1:111122223333:cluster/events/abc123',
      records: {
        'user-events-0': [
          {
            headers: [],
            key: 'dXNlci11LTEwMDE=',
            offset: 100,
            partition: 0,
            timestamp: 1763921764835,
            timestampType: 'CREATE_TIME',
            topic: 'user-events',
            value: 'eyJicm9rZW4iOnRydWV9',
          },
        ],
      },
    },
  },
  {
    requestContext: {
      requestId: '6a1f0c3e-2b9d-4e7f-8a5c-0d1e2f3a4b5c',
      functionArn: 'arn:aws:lambda:local:000000000000:function:order-consumer',
      condition: 'RecordRejected',
      approximateInvokeCount: 1,
    },
    responseContext: null,
    version: '1.0',
    timestamp: '2026-11-23T18:20:00.000Z',
    KafkaBatchInfo: {
      batchSize: 1,
      eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
      bootstrapServers: '127.0.0.1:9092',
      payloadSize: 310,
      recordInfo: { offset: '7', timestamp: '2026-11-23T18:19:59.000Z' },
    },
    payload: {
      bootstrapServers: '127.0.0.1:9092',
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
      records: {
        'order-events-2': [
          {
            headers: [
              {
                'content-type': [97, 112, 112, 108, 105, 99, 97, 116, 105, 111, 110, 47, 106, 115, 111, 110],
              },
            ],
            key: null,
            offset: 7,
            partition: 2,
            timestamp: 1763921999000,
            timestampType: 'LOG_APPEND_TIME',
            topic: 'order-events',
            value: null,
          },
        ],
      },
    },
    errorInfo: {
      errorType: 'ContractViolation',
      errorMessage: 'order_created: /data/items must NOT have fewer than 1 items',
      issues: [{ path: '/data/items', message: 'must NOT have fewer than 1 items' }],
    },
  },
];

/** A value a contract must reject, and the JSON Pointer of (one of) the problems it must report. */
export interface CounterExample {
  readonly why: string;
  readonly value: unknown;
  readonly path: string;
}

const clone = <T>(v: T): T => structuredClone(v);
function firstOf<T>(items: readonly T[] | undefined): T {
  const item = items?.[0];
  if (item === undefined) throw new Error('fixture array is empty');
  return item;
}
function mutate<T extends object>(value: T, edit: (copy: Record<string, unknown> & T) => void): T {
  const copy = clone(value) as Record<string, unknown> & T;
  edit(copy);
  return copy;
}
const data = (e: object) => (e as { data: Record<string, unknown> }).data;

/** Counter-examples of the envelope, built from any valid event. */
function envelopeCounterExamples(valid: EventOf<EventType>): CounterExample[] {
  return [
    { why: 'not an object', value: [valid], path: '' },
    {
      why: 'missing eventId',
      value: mutate(valid, (c) => delete (c as Partial<typeof c>).eventId),
      path: '/eventId',
    },
    { why: 'eventId not a UUID', value: mutate(valid, (c) => (c.eventId = 'evt-1')), path: '/eventId' },
    {
      why: 'eventType of another contract',
      value: mutate(
        valid,
        (c) => (c.eventType = valid.eventType === 'user_login' ? 'user_registered' : 'user_login'),
      ),
      path: '/eventType',
    },
    {
      why: 'occurredAt without offset',
      value: mutate(valid, (c) => (c.occurredAt = '2026-11-23T09:15:00')),
      path: '/occurredAt',
    },
    {
      why: 'occurredAt as epoch number',
      value: mutate(valid, (c) => ((c as Record<string, unknown>).occurredAt = 1763889300)),
      path: '/occurredAt',
    },
    {
      why: 'occurredAt impossible date',
      value: mutate(valid, (c) => (c.occurredAt = '2026-02-30T09:15:00Z')),
      path: '/occurredAt',
    },
    { why: 'empty source', value: mutate(valid, (c) => (c.source = '')), path: '/source' },
    {
      why: 'correlationId with spaces',
      value: mutate(valid, (c) => (c.correlationId = 'a b')),
      path: '/correlationId',
    },
    {
      why: 'causationId not a UUID',
      value: mutate(valid, (c) => (c.causationId = 'parent')),
      path: '/causationId',
    },
    { why: 'schemaVersion 0', value: mutate(valid, (c) => (c.schemaVersion = 0)), path: '/schemaVersion' },
    {
      why: 'schemaVersion fractional',
      value: mutate(valid, (c) => (c.schemaVersion = 1.5)),
      path: '/schemaVersion',
    },
    {
      why: 'unknown envelope field',
      value: mutate(valid, (c) => ((c as Record<string, unknown>).extra = 1)),
      path: '',
    },
    { why: 'missing data', value: mutate(valid, (c) => delete (c as Partial<typeof c>).data), path: '/data' },
    {
      why: 'data is null',
      value: mutate(valid, (c) => ((c as Record<string, unknown>).data = null)),
      path: '/data',
    },
    { why: 'unknown data field', value: mutate(valid, (c) => (data(c).unexpected = 'x')), path: '/data' },
    {
      why: '__proto__ key in data (as JSON.parse creates it)',
      value: JSON.parse(JSON.stringify(valid).replace('"data":{', '"data":{"__proto__":{"isAdmin":true},')),
      path: '/data',
    },
  ];
}

const first = <T extends EventType>(t: T): EventOf<T> => eventExamples[t][0] as EventOf<T>;
const withData = <T extends EventType>(
  t: T,
  edit: (d: Record<string, unknown>) => void,
  why: string,
  path: string,
): CounterExample => ({
  why,
  value: mutate(first(t), (c) => edit(data(c))),
  path,
});

/** Counter-examples specific to each contract's `data`. */
const dataCounterExamples: { readonly [T in EventType]: readonly CounterExample[] } = {
  user_registered: [
    withData('user_registered', (d) => delete d.email, 'missing email', '/data/email'),
    withData('user_registered', (d) => (d.email = 'not-an-email'), 'malformed email', '/data/email'),
    withData('user_registered', (d) => (d.userId = 'has space'), 'userId with a space', '/data/userId'),
    withData('user_registered', (d) => (d.userId = 'x'.repeat(65)), 'userId too long', '/data/userId'),
    withData('user_registered', (d) => (d.name = ''), 'empty name', '/data/name'),
    withData('user_registered', (d) => (d.locale = 'English'), 'locale not BCP 47', '/data/locale'),
  ],
  user_updated: [
    withData('user_updated', (d) => (d.changes = {}), 'no change', '/data/changes'),
    withData(
      'user_updated',
      (d) => (d.changes = { password: 'x' }),
      'change of a field users cannot set',
      '/data/changes',
    ),
  ],
  user_deleted: [
    withData('user_deleted', (d) => (d.reason = 'bored'), 'unknown reason', '/data/reason'),
    withData('user_deleted', (d) => delete d.reason, 'missing reason', '/data/reason'),
  ],
  user_login: [
    withData('user_login', (d) => (d.method = 'telepathy'), 'unknown method', '/data/method'),
    withData('user_login', (d) => (d.ipAddress = '300.1.2.3'), 'invalid IP address', '/data/ipAddress'),
    withData('user_login', (d) => (d.mfa = 'yes'), 'mfa not a boolean', '/data/mfa'),
  ],
  order_created: [
    withData('order_created', (d) => (d.items = []), 'no items', '/data/items'),
    withData(
      'order_created',
      (d) => (firstOf(d.items as { quantity: number }[]).quantity = 0),
      'quantity 0',
      '/data/items/0/quantity',
    ),
    withData(
      'order_created',
      (d) => (firstOf((d.items as { unitPrice: number }[]).slice(1)).unitPrice = 2.5),
      'fractional minor units',
      '/data/items/1/unitPrice',
    ),
    withData('order_created', (d) => (d.totalAmount = -1), 'negative total', '/data/totalAmount'),
    withData('order_created', (d) => (d.totalAmount = '4248'), 'total as a string', '/data/totalAmount'),
    withData('order_created', (d) => (d.currency = 'eur'), 'lowercase currency', '/data/currency'),
    withData('order_created', (d) => (d.totalAmount = 1e300), 'huge number', '/data/totalAmount'),
  ],
  order_updated: [withData('order_updated', (d) => (d.status = 'lost'), 'unknown status', '/data/status')],
  order_cancelled: [withData('order_cancelled', (d) => (d.reason = ''), 'empty reason', '/data/reason')],
  order_paid: [withData('order_paid', (d) => delete d.paymentId, 'missing paymentId', '/data/paymentId')],
  order_refunded: [
    withData('order_refunded', (d) => delete d.refundId, 'missing refundId', '/data/refundId'),
  ],
  payment_processed: [
    withData('payment_processed', (d) => (d.method = 'cash'), 'unknown method', '/data/method'),
    withData('payment_processed', (d) => (d.amount = null), 'null amount', '/data/amount'),
  ],
  payment_failed: [
    withData('payment_failed', (d) => delete d.failureCode, 'missing failureCode', '/data/failureCode'),
    withData(
      'payment_failed',
      (d) => (d.failureCode = 'Card Declined'),
      'failureCode not a code',
      '/data/failureCode',
    ),
  ],
  payment_refunded: [
    withData('payment_refunded', (d) => (d.reason = 'x'.repeat(1001)), 'reason too long', '/data/reason'),
  ],
  welcome_email_sent: [withData('welcome_email_sent', (d) => delete d.email, 'missing email', '/data/email')],
  profile_updated: [withData('profile_updated', (d) => (d.changes = {}), 'no change', '/data/changes')],
  user_cleanup: [withData('user_cleanup', (d) => delete d.userId, 'missing userId', '/data/userId')],
  order_confirmation_sent: [
    withData('order_confirmation_sent', (d) => (d.itemCount = 0), 'no items', '/data/itemCount'),
  ],
  order_cancellation_sent: [
    withData('order_cancellation_sent', (d) => delete d.reason, 'missing reason', '/data/reason'),
  ],
  order_status_changed: [
    withData(
      'order_status_changed',
      (d) => (d.previousStatus = 'teleported'),
      'unknown previous status',
      '/data/previousStatus',
    ),
  ],
  fulfillment_requested: [
    withData('fulfillment_requested', (d) => delete d.paymentId, 'missing paymentId', '/data/paymentId'),
  ],
  payment_failure_notified: [
    withData(
      'payment_failure_notified',
      (d) => (d.currency = 'EURO'),
      'currency of 4 letters',
      '/data/currency',
    ),
  ],
  refund_confirmation_sent: [
    withData('refund_confirmation_sent', (d) => (d.amount = -5), 'negative amount', '/data/amount'),
  ],
};

const dl = deadLetterExamples[0] as DeadLetter;
/** Counter-examples of the dead-letter record. */
const deadLetterCounterExamples: readonly CounterExample[] = [
  {
    why: 'missing payload',
    value: mutate(dl, (c) => delete (c as Partial<DeadLetter>).payload),
    path: '/payload',
  },
  {
    why: 'unknown condition',
    value: mutate(dl, (c) => ((c.requestContext as { condition: string }).condition = 'Oops')),
    path: '/requestContext/condition',
  },
  {
    why: 'wrong version',
    value: mutate(dl, (c) => ((c as { version: string }).version = '2.0')),
    path: '/version',
  },
  {
    why: 'two records',
    value: mutate(dl, (c) => {
      const records = c.payload.records as Record<string, unknown[]>;
      records['user-events-0'] = [...(records['user-events-0'] ?? []), ...(records['user-events-0'] ?? [])];
    }),
    path: '/payload/records/user-events-0',
  },
  {
    why: 'value not base64',
    value: mutate(
      dl,
      (c) => (firstOf(c.payload.records['user-events-0'] as { value: unknown }[]).value = '{"raw":json}'),
    ),
    path: '/payload/records/user-events-0/0/value',
  },
  {
    why: 'offset not numeric',
    value: mutate(dl, (c) => (c.KafkaBatchInfo.recordInfo.offset = 'ten')),
    path: '/KafkaBatchInfo/recordInfo/offset',
  },
];

/** Every contract name with its examples and counter-examples, for table-driven tests. */
export function contractCases(): {
  name: ContractName;
  examples: readonly unknown[];
  counterExamples: readonly CounterExample[];
}[] {
  const events = (Object.keys(eventExamples) as EventType[]).map((name) => ({
    name,
    examples: eventExamples[name],
    counterExamples: [...envelopeCounterExamples(first(name)), ...dataCounterExamples[name]],
  }));
  return [
    ...events,
    { name: 'dead_letter', examples: deadLetterExamples, counterExamples: deadLetterCounterExamples },
  ];
}
