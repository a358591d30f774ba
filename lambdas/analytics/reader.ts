/**
 * Reads the daily aggregates from the analytics table (keys: core/analytics-query.ts): each day's
 * totals item with BatchGetItem, each day's active users with a Query that counts its `USER#` items.
 * Used by the analytics API function (./api.ts), the ops CLI and the post-deploy check.
 */

import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  DynamoDBClient,
  type KeysAndAttributes,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type DailyResponse,
  dailyResponse,
  dayPartitionKey,
  TOTALS_SORT_KEY,
  USER_SORT_KEY_PREFIX,
} from '../../core/analytics-query';
import { ConfigurationError, FUNCTION_ENV } from '../../core/env';
import { analyticsClientConfig } from './store';

/** Reads the aggregates of a list of days. */
export interface AnalyticsReader {
  daily(days: readonly string[]): Promise<DailyResponse>;
}

/** BatchGetItem reads at most 100 items per request (more is a ValidationException). */
const BATCH_GET_LIMIT = 100;
/** Requests for unprocessed keys before giving up. */
const MAX_ATTEMPTS = 8;
/** Day queries in flight at once. */
const QUERY_CONCURRENCY = 8;

export interface ReaderOptions {
  readonly client: DynamoDBClient;
  readonly table: string;
  /** Waits between retries of unprocessed keys (tests pass a fake). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The numeric attributes of an item (`N`), as numbers. */
function numbers(item: Record<string, AttributeValue>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) if (value.N !== undefined) out[name] = Number(value.N);
  return out;
}

export function createReader(options: ReaderOptions): AnalyticsReader {
  const { client, table } = options;
  const sleep = options.sleep ?? wait;

  /**
   * BatchGetItem (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html):
   * "as many as 100 items" per request, and a partial result leaves the rest in `UnprocessedKeys`,
   * which the caller retries, "we strongly recommend that you use an exponential backoff algorithm".
   */
  async function totals(days: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const byDay = new Map<string, Record<string, number>>();
    for (let i = 0; i < days.length; i += BATCH_GET_LIMIT) {
      let request: Record<string, KeysAndAttributes> | undefined = {
        [table]: {
          Keys: days
            .slice(i, i + BATCH_GET_LIMIT)
            .map((day) => ({ pk: { S: dayPartitionKey(day) }, sk: { S: TOTALS_SORT_KEY } })),
        },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt === MAX_ATTEMPTS) {
          const left = request[table]?.Keys?.length ?? 0;
          throw new Error(
            `BatchGetItem on ${table} left ${left} key(s) unprocessed after ${MAX_ATTEMPTS} attempts`,
          );
        }
        if (attempt > 0) await sleep(Math.min(50 * 2 ** attempt, 2000));
        const response: BatchGetItemCommandOutput = await client.send(
          new BatchGetItemCommand({ RequestItems: request }),
        );
        for (const item of response.Responses?.[table] ?? []) {
          const day = item.pk?.S?.slice(dayPartitionKey('').length);
          if (day) byDay.set(day, numbers(item));
        }
        request = response.UnprocessedKeys;
      }
    }
    return byDay;
  }

  /**
   * A day's active users: Query `pk = DAY#<day> AND begins_with(sk, 'USER#')` with `Select: COUNT`,
   * following `LastEvaluatedKey` until it is absent, as a Query reads at most 1 MB per page
   * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html,
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html).
   */
  async function activeUsers(day: string): Promise<number> {
    let count = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :user)',
          ExpressionAttributeValues: {
            ':pk': { S: dayPartitionKey(day) },
            ':user': { S: USER_SORT_KEY_PREFIX },
          },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start && Object.keys(start).length > 0);
    return count;
  }

  async function allActiveUsers(days: readonly string[]): Promise<Map<string, number>> {
    const byDay = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < days.length) {
        const day = days[next++] as string;
        byDay.set(day, await activeUsers(day));
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, days.length) }, worker));
    return byDay;
  }

  return {
    async daily(days) {
      const [byDay, active] = await Promise.all([totals(days), allActiveUsers(days)]);
      return dailyResponse(days, byDay, active);
    },
  };
}

/**
 * The DynamoDB client of the environment, configured as the consumer's (./store.ts): `DYNAMODB_ENDPOINT`
 * when set (the local endpoint, LocalStack, DynamoDB Local), else the SDK's own resolution, which also honours
 * `AWS_ENDPOINT_URL_DYNAMODB` (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
export function dynamoClient(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  return new DynamoDBClient(analyticsClientConfig(env));
}

/** The reader of the table named by `ANALYTICS_TABLE`. */
export function readerFromEnvironment(env: NodeJS.ProcessEnv = process.env): AnalyticsReader {
  const table = env[FUNCTION_ENV.analyticsTable]?.trim();
  if (!table) {
    throw new ConfigurationError(
      `${FUNCTION_ENV.analyticsTable} is not set: give the name of the analytics table (<stage>-analytics)`,
    );
  }
  return createReader({ client: dynamoClient(env), table });
}
