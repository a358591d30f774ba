/**
 * The analytics reader against the DynamoDB API. DynamoDB cannot run here, so a moto server on
 * loopback stands in for it (as the local runtime's endpoint does), reached through
 * DYNAMODB_ENDPOINT. The items are written in the storage design's shape (core/analytics-query.ts).
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../../core/analytics-query';
import { createReader, readerFromEnvironment } from '../../lambdas/analytics/reader';
import { main } from '../../ops/ops';
import { startMoto } from '../support/python-tools';

let moto: Awaited<ReturnType<typeof startMoto>>;
let client: DynamoDBClient;
const TABLE = 'test-analytics';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

async function put(items: Record<string, AttributeValue>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { [TABLE]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
}

const days = (from: string, to: string) => {
  const range = parseRange(from, to);
  if (!range.ok) throw new Error(range.problem.message);
  return range.days;
};

beforeAll(async () => {
  moto = await startMoto();
  client = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await put([
    {
      pk: { S: 'DAY#2026-03-05' },
      sk: { S: 'TOTALS' },
      count_user_login: { N: '3' },
      count_payment_processed: { N: '2' },
      count_payment_refunded: { N: '1' },
      revenue_EUR: { N: '1500' },
      revenue_USD: { N: '-250' },
    },
    { pk: { S: 'DAY#2026-03-05' }, sk: { S: 'USER#u-1' } },
    { pk: { S: 'DAY#2026-03-05' }, sk: { S: 'USER#u-2' } },
    // Not users of the day: an event marker and another day's user.
    { pk: { S: 'EVENT#8d7a' }, sk: { S: 'EVENT' }, day: { S: '2026-03-05' }, eventType: { S: 'user_login' } },
    { pk: { S: 'DAY#2026-03-06' }, sk: { S: 'USER#u-1' } },
    { pk: { S: 'DAY#2025-01-01' }, sk: { S: 'TOTALS' }, count_order_created: { N: '7' } },
    { pk: { S: 'DAY#2026-01-01' }, sk: { S: 'TOTALS' }, count_order_created: { N: '9' } },
    ...Array.from({ length: 7 }, (_, i) => ({ pk: { S: 'DAY#2026-01-01' }, sk: { S: `USER#p-${i}` } })),
  ]);
}, 700_000);
afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('analytics reader (moto stands in for DynamoDB)', () => {
  it('reads counts, revenue and active users per day, and empty days', async () => {
    const reader = createReader({ client, table: TABLE });
    expect(await reader.daily(days('2026-03-04', '2026-03-06'))).toEqual({
      days: [
        { date: '2026-03-04', counts: {}, revenue: {}, activeUsers: 0 },
        {
          date: '2026-03-05',
          counts: { user_login: 3, payment_processed: 2, payment_refunded: 1 },
          revenue: { EUR: 1500, USD: -250 },
          activeUsers: 2,
        },
        { date: '2026-03-06', counts: {}, revenue: {}, activeUsers: 1 },
      ],
    });
  });

  it('reads 366 days in BatchGetItem requests of at most 100 keys', async () => {
    const sizes: number[] = [];
    const counting = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetItemCommand') {
          const input = args.input as { RequestItems: Record<string, { Keys: unknown[] }> };
          sizes.push(input.RequestItems[TABLE]?.Keys.length ?? 0);
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const result = await createReader({ client: counting, table: TABLE }).daily(
      days('2025-01-01', '2026-01-01'),
    );
    counting.destroy();
    expect(sizes).toEqual([100, 100, 100, 66]);
    expect(result.days).toHaveLength(366);
    expect(result.days[0]).toEqual({
      date: '2025-01-01',
      counts: { order_created: 7 },
      revenue: {},
      activeUsers: 0,
    });
    expect(result.days[365]).toEqual({
      date: '2026-01-01',
      counts: { order_created: 9 },
      revenue: {},
      activeUsers: 7,
    });
  });

  it('follows LastEvaluatedKey when a day has more users than a page, and retries UnprocessedKeys', async () => {
    const calls: string[] = [];
    const paging = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    let withheld = false;
    paging.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName as string);
        // Pages of 3 items (DynamoDB pages at 1 MB; Limit makes the same LastEvaluatedKey appear).
        if (context.commandName === 'QueryCommand') (args.input as { Limit?: number }).Limit = 3;
        const result = await next(args);
        // The first BatchGetItem answers nothing and returns its keys as unprocessed, as DynamoDB
        // may under throttling.
        if (context.commandName === 'BatchGetItemCommand' && !withheld) {
          withheld = true;
          const output = result.output as {
            Responses?: Record<string, unknown[]>;
            UnprocessedKeys?: unknown;
          };
          output.UnprocessedKeys = (args.input as { RequestItems: unknown }).RequestItems;
          output.Responses = { [TABLE]: [] };
        }
        return result;
      },
      { step: 'initialize' },
    );
    const waits: number[] = [];
    const reader = createReader({
      client: paging,
      table: TABLE,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const result = await reader.daily(['2026-01-01']);
    paging.destroy();
    expect(result.days[0]).toEqual({
      date: '2026-01-01',
      counts: { order_created: 9 },
      revenue: {},
      activeUsers: 7,
    });
    expect(calls.filter((c) => c === 'QueryCommand')).toHaveLength(3);
    expect(calls.filter((c) => c === 'BatchGetItemCommand')).toHaveLength(2);
    expect(waits).toHaveLength(1);
  });

  it('reads the table of ANALYTICS_TABLE at DYNAMODB_ENDPOINT, and names a missing table variable', async () => {
    const env = {
      ANALYTICS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    };
    const saved = { ...process.env };
    try {
      Object.assign(process.env, env);
      const result = await readerFromEnvironment(env).daily(['2026-03-06']);
      expect(result.days[0]?.activeUsers).toBe(1);
    } finally {
      process.env = saved;
    }
    expect(() => readerFromEnvironment({})).toThrow(/ANALYTICS_TABLE is not set/);
  });
});

describe('npm run ops -- analytics', () => {
  const env = () => ({
    ANALYTICS_TABLE: TABLE,
    DYNAMODB_ENDPOINT: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
  async function ops(argv: string[], environment: NodeJS.ProcessEnv) {
    const out: string[] = [];
    const err: string[] = [];
    const saved = { ...process.env };
    try {
      // The SDK reads the region and credentials from the process environment.
      Object.assign(process.env, environment);
      const status = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env: environment });
      return { status, out: out.join('\n'), err: err.join('\n') };
    } finally {
      process.env = saved;
    }
  }

  it('prints a line per day: events, active users, counts and revenue', async () => {
    const result = await ops(['analytics', '--from', '2026-03-04', '--to', '2026-03-05'], env());
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    const lines = result.out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^DATE\s+EVENTS\s+ACTIVE USERS\s+COUNTS\s+REVENUE/);
    expect(lines[1]).toMatch(/^2026-03-04\s+0\s+0\s+-\s+-$/);
    expect(lines[2]).toMatch(
      /^2026-03-05\s+6\s+2\s+payment_processed=2 payment_refunded=1 user_login=3\s+EUR 1500, USD -250$/,
    );
  });

  it('prints the API answer with --json', async () => {
    const result = await ops(['analytics', '--from', '2026-03-06', '--to', '2026-03-06', '--json'], env());
    expect(JSON.parse(result.out)).toEqual({
      days: [{ date: '2026-03-06', counts: {}, revenue: {}, activeUsers: 1 }],
    });
  });

  it('names a bad range or a missing table, exit status 2, before any call', async () => {
    const reversed = await ops(['analytics', '--from', '2026-03-06', '--to', '2026-03-05'], env());
    expect(reversed).toMatchObject({ status: 2, err: 'ops: --from 2026-03-06 is after to 2026-03-05' });
    const missing = await ops(['analytics', '--to', '2026-03-05'], env());
    expect(missing).toMatchObject({ status: 2, err: 'ops: --from is required (YYYY-MM-DD)' });
    const noTable = await ops(['analytics', '--from', '2026-03-05', '--to', '2026-03-05'], {});
    expect(noTable.status).toBe(2);
    expect(noTable.err).toMatch(/ANALYTICS_TABLE.*--stage/);
    const extra = await ops(
      ['analytics', '--from', '2026-03-05', '--to', '2026-03-05', '--limit', '3'],
      env(),
    );
    expect(extra).toMatchObject({ status: 2, err: 'ops: analytics does not take --limit' });
  });
});
