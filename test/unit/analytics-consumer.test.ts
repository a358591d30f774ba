/**
 * The analytics consumer's failure paths that need no DynamoDB:
 * - lambdas/analytics/handler.ts `countBatch` when the store fails part of a batch: the partial batch
 *   response names, per partition, the lowest offset not counted, in the documented shape
 *   `{ itemIdentifier: { partition: "<topic>-<partition>", offset } }`
 *   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html, partial batch
 *   response), so Lambda retries from there;
 * - lambdas/analytics/store.ts when TransactWriteItems is cancelled by `TransactionConflict`. moto's
 *   DynamoDB server never answers TransactionConflict (its transact_write_items reports only
 *   condition failures and validation errors), so here the SDK client's `send` is a fake that
 *   answers as DynamoDB documents it: TransactionCanceledException with one CancellationReason per
 *   action in request order
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
 *   The ConditionalCheckFailed path runs against moto in test/integration/analytics-store.test.ts.
 */
import {
  TransactionCanceledException,
  type TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { type Countable, countable } from '../../core/analytics';
import type { MskEvent } from '../../core/msk-event';
import { contractOfSchemaVersionId } from '../../core/records';
import { type AnalyticsStore, dynamoStore, StoreFailure } from '../../lambdas/analytics/store';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, EventType } from '../../schemas/index';
import { invocation, jsonValue, mskEvent } from '../fixtures/msk';
import { RecordingWriter } from '../support/recording-writer';

// The handler module builds its default handler on import, which reads the function environment.
vi.stubEnv('KAFKA_BROKERS', '127.0.0.1:9');
vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
const { countBatch } = await import('../../lambdas/analytics/handler');

let serial = 0;
function event(type: EventType, occurredAt = '2026-11-23T09:15:00Z'): AnyEvent {
  serial++;
  const example = eventExamples[type][0] as AnyEvent;
  return {
    ...example,
    eventId: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    occurredAt,
  } as AnyEvent;
}

/** A store that fails as `failure` says, after recording what it was given. */
function failingStore(failure: (events: readonly Countable[]) => Error): AnalyticsStore & {
  given: Countable[][];
} {
  const given: Countable[][] = [];
  return {
    given,
    async count(events) {
      given.push([...events]);
      throw failure(events);
    },
  };
}

const deps = (store: AnalyticsStore) => ({
  writer: new RecordingWriter(),
  store,
  contractOf: contractOfSchemaVersionId(undefined),
  now: () => new Date('2026-11-23T12:00:00Z'),
});

describe('countBatch when counting fails', () => {
  // user-events-0: offsets 10..13; user-events-3: offsets 5..6; user-events-4: offset 8.
  const records = [
    { partition: 0, offset: 10, event: event('user_login') },
    { partition: 0, offset: 11, event: event('user_registered') },
    { partition: 0, offset: 12, event: event('user_login') },
    { partition: 0, offset: 13, event: event('user_deleted') },
    { partition: 3, offset: 5, event: event('user_updated') },
    { partition: 3, offset: 6, event: event('user_login') },
    { partition: 4, offset: 8, event: event('user_login') },
  ];
  const batch: MskEvent = mskEvent(
    records.map((r) => ({
      topic: 'user-events',
      partition: r.partition,
      offset: r.offset,
      key: `user-${r.event.eventId}`,
      value: jsonValue(r.event),
    })),
  );
  const idAt = (partition: number, offset: number) =>
    (records.find((r) => r.partition === partition && r.offset === offset) as (typeof records)[number]).event
      .eventId;

  it('reports, per partition, the lowest offset the store did not count, in the documented shape', async () => {
    // Not counted: 12 and 13 of partition 0 (named out of order), 6 of partition 3; all of partition 4 counted.
    const uncounted = new Set([idAt(0, 13), idAt(0, 12), idAt(3, 6)]);
    const store = failingStore(
      () => new StoreFailure('counting into t failed: throttled', uncounted, 4, new Error('throttled')),
    );
    const result = await countBatch(batch, invocation, deps(store));
    expect(store.given).toHaveLength(1);
    expect(store.given[0]?.map((e) => e.eventId)).toEqual(records.map((r) => r.event.eventId));
    expect(
      [...result.response.batchItemFailures].sort((a, b) =>
        a.itemIdentifier.partition.localeCompare(b.itemIdentifier.partition),
      ),
    ).toEqual([
      { itemIdentifier: { partition: 'user-events-0', offset: 12 } },
      { itemIdentifier: { partition: 'user-events-3', offset: 6 } },
    ]);
    expect(result.counted).toBe(4);
    // Records from a reported offset on are retried: they count as failed, the others as processed.
    const failed = [...result.counts.values()].reduce((n, c) => n + c.failed, 0);
    const processed = [...result.counts.values()].reduce((n, c) => n + c.processed, 0);
    expect({ failed, processed }).toEqual({ failed: 3, processed: 4 });
  });

  it('reports every partition from its first record when nothing was counted', async () => {
    const store = failingStore(
      (events) =>
        new StoreFailure('counting into t failed: unreachable', new Set(events.map((e) => e.eventId)), 0),
    );
    const result = await countBatch(batch, invocation, deps(store));
    expect(
      [...result.response.batchItemFailures].sort((a, b) =>
        a.itemIdentifier.partition.localeCompare(b.itemIdentifier.partition),
      ),
    ).toEqual([
      { itemIdentifier: { partition: 'user-events-0', offset: 10 } },
      { itemIdentifier: { partition: 'user-events-3', offset: 5 } },
      { itemIdentifier: { partition: 'user-events-4', offset: 8 } },
    ]);
    expect(result.counted).toBe(0);
  });

  it('rethrows a failure that is not a StoreFailure (a bug, not a record to retry)', async () => {
    const store = failingStore(() => new TypeError('bug'));
    await expect(countBatch(batch, invocation, deps(store))).rejects.toThrow(TypeError);
  });
});

/** A DynamoDB client whose `send` answers each TransactWriteItems with `answer(n, input)` (n from 1). */
function fakeClient(answer: (n: number, input: TransactWriteItemsCommandInput) => Error | undefined) {
  const sent: TransactWriteItemsCommandInput[] = [];
  return {
    sent,
    client: {
      send: async (command: TransactWriteItemsCommand) => {
        sent.push(command.input);
        const error = answer(sent.length, command.input);
        if (error) throw error;
        return { $metadata: {} };
      },
    } as never,
  };
}

/** TransactionCanceledException as DynamoDB sends it: `TransactionConflict` on the day update, `None` elsewhere. */
const conflict = (input: TransactWriteItemsCommandInput) =>
  new TransactionCanceledException({
    message:
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
    $metadata: {},
    CancellationReasons: (input.TransactItems ?? []).map((item) =>
      item.Update
        ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
        : { Code: 'None' },
    ),
  });

const registrations = (n: number) => Array.from({ length: n }, () => countable(event('user_registered')));

describe('dynamoStore on TransactionConflict (fake client: moto does not produce conflicts)', () => {
  it('sends the same transaction again after a conflict and counts it once', async () => {
    const events = registrations(3);
    const fake = fakeClient((n, input) => (n === 1 ? conflict(input) : undefined));
    const store = dynamoStore({ client: fake.client, tableName: 't', now: () => 1_800_000_000_000 });
    await expect(store.count(events)).resolves.toEqual({ counted: 3, duplicates: 0 });
    expect(fake.sent).toHaveLength(2);
    expect(fake.sent[1]).toEqual(fake.sent[0]);
  });

  it('gives up after conflictAttempts and fails with the events not counted, later chunks included', async () => {
    // 250 events of one day: three transactions of 99, 99 and 52 markers, each with the day update.
    const events = registrations(250);
    const fake = fakeClient((n, input) => (n === 1 ? undefined : conflict(input)));
    const store = dynamoStore({
      client: fake.client,
      tableName: 't',
      now: () => 1_800_000_000_000,
      conflictAttempts: 3,
    });
    const failure = await store.count(events).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StoreFailure);
    const { uncounted, counted, message } = failure as StoreFailure;
    expect(message).toBe('counting into t conflicted with other transactions 3 times');
    expect(counted).toBe(99);
    expect([...uncounted].sort()).toEqual(
      events
        .slice(99)
        .map((e) => e.eventId)
        .sort(),
    );
    // One send for the first chunk, then three attempts of the second; the third is never sent.
    expect(fake.sent.map((s) => s.TransactItems?.length)).toEqual([100, 100, 100, 100]);
  });
});
