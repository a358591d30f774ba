/**
 * lambdas/analytics/store.ts against a real DynamoDB API (moto's server, as `npm start` runs it) when a
 * transaction is cancelled because some events were counted before: TransactWriteItems answers
 * TransactionCanceledException with `ConditionalCheckFailed` in the CancellationReasons of those
 * events' markers (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html:
 * one reason per action, in request order, `None` where the action was fine); the store drops those
 * events and sends the transaction again with the rest. moto implements this cancellation (its
 * transact_write_items collects a reason per action and rolls the whole transaction back).
 */
import {
  type DynamoDBClient,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Countable, countable } from '../../core/analytics';
import { analyticsClient, dynamoStore } from '../../lambdas/analytics/store';
import { ensureAnalyticsTable } from '../../local/analytics-table';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, EventType } from '../../schemas/index';
import { unique } from '../support/kafka-clients';
import { startMoto } from '../support/python-tools';

let moto: Awaited<ReturnType<typeof startMoto>>;
let client: DynamoDBClient;
const tableName = unique('analytics-store');
// A day no other test counts on.
const DAY = `${3000 + Math.floor(Math.random() * 900)}-06-15`;

beforeAll(async () => {
  moto = await startMoto();
  client = await analyticsClient({ ...process.env, DYNAMODB_ENDPOINT: moto.endpoint });
  await ensureAnalyticsTable(client, tableName);
});
afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

function event(type: EventType, data: Record<string, unknown> = {}): Countable {
  const example = eventExamples[type][0] as AnyEvent;
  return countable({
    ...example,
    eventId: crypto.randomUUID(),
    occurredAt: `${DAY}T10:00:00Z`,
    data: { ...example.data, ...data },
  } as AnyEvent);
}

/** The client, with every TransactWriteItems it sends and how each ended. */
function recording() {
  const calls: { markers: string[]; outcome: string }[] = [];
  const send = (async (command: TransactWriteItemsCommand) => {
    const markers = (command.input.TransactItems ?? [])
      .map((i) => i.Put?.Item?.pk?.S ?? '')
      .filter((pk) => pk.startsWith('EVENT#'))
      .map((pk) => pk.slice('EVENT#'.length));
    try {
      const out = await client.send(command);
      calls.push({ markers, outcome: 'ok' });
      return out;
    } catch (error) {
      const reasons =
        error instanceof TransactionCanceledException
          ? (error.CancellationReasons ?? []).map((r) => r.Code).join(',')
          : (error as Error).name;
      calls.push({ markers, outcome: reasons });
      throw error;
    }
  }) as DynamoDBClient['send'];
  return { calls, client: { send } };
}

async function totals(): Promise<Record<string, number>> {
  const page = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': { S: `DAY#${DAY}` }, ':sk': { S: 'TOTALS' } },
    }),
  );
  const item = page.Items?.[0] ?? {};
  return Object.fromEntries(
    Object.entries(item)
      .filter(([, v]) => v.N !== undefined)
      .map(([k, v]) => [k, Number(v.N)]),
  );
}

describe('dynamoStore when some events of a transaction were counted before (moto)', () => {
  it('drops exactly those events, sends the rest again, and counts each event once', async () => {
    const before = [event('payment_processed', { amount: 1000 }), event('order_created')];
    const store = dynamoStore({ client, tableName });
    await expect(store.count(before)).resolves.toEqual({ counted: 2, duplicates: 0 });

    const fresh = [
      event('payment_processed', { amount: 250 }),
      event('order_created'),
      event('user_deleted'),
    ];
    // A redelivery: the two counted events again, mixed with new ones.
    const batch = [fresh[0], before[0], fresh[1], before[1], fresh[2]] as Countable[];
    const recorded = recording();
    const again = dynamoStore({ client: recorded.client, tableName });
    await expect(again.count(batch)).resolves.toEqual({ counted: 3, duplicates: 2 });

    // First attempt: cancelled with ConditionalCheckFailed on the two known markers only (request
    // order: the five markers, then the day update); second attempt: the three new events, committed.
    expect(recorded.calls).toEqual([
      {
        markers: batch.map((e) => e.eventId),
        outcome: 'None,ConditionalCheckFailed,None,ConditionalCheckFailed,None,None',
      },
      { markers: fresh.map((e) => e.eventId), outcome: 'ok' },
    ]);
    // The cancelled attempt wrote nothing; the totals hold each event once.
    expect(await totals()).toEqual({
      count_payment_processed: 2,
      count_order_created: 2,
      count_user_deleted: 1,
      revenue_EUR: 1250,
    });

    // Everything counted already: one cancelled attempt, nothing left to send, nothing added.
    const replay = recording();
    await expect(dynamoStore({ client: replay.client, tableName }).count(batch)).resolves.toEqual({
      counted: 0,
      duplicates: 5,
    });
    expect(replay.calls).toHaveLength(1);
    expect(await totals()).toEqual({
      count_payment_processed: 2,
      count_order_created: 2,
      count_user_deleted: 1,
      revenue_EUR: 1250,
    });
  });
});
