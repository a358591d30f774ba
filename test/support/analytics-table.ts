/**
 * A day's aggregates read straight from the analytics table (not through the API under test): its
 * totals item and its active-user items, every page, with the keys and attribute names of
 * core/analytics.ts.
 */
import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { dayPartitionKey, TOTALS_SORT_KEY, USER_SORT_KEY_PREFIX } from '../../core/analytics';
import { dailyResponse } from '../../core/analytics-query';

export interface DayTotals {
  counts: Record<string, number>;
  revenue: Record<string, number>;
  activeUsers: number;
}

/** The totals of `day` in `tableName`: counts per type, revenue per currency, active users. */
export async function dayTotalsInTable(
  client: DynamoDBClient,
  tableName: string,
  day: string,
): Promise<DayTotals> {
  const numbers: Record<string, number> = {};
  let activeUsers = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: dayPartitionKey(day) } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const sk = item.sk?.S ?? '';
      if (sk.startsWith(USER_SORT_KEY_PREFIX)) activeUsers++;
      if (sk !== TOTALS_SORT_KEY) continue;
      for (const [name, value] of Object.entries(item))
        if (value.N !== undefined) numbers[name] = Number(value.N);
    }
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  const [totals] = dailyResponse([day], new Map([[day, numbers]]), new Map([[day, activeUsers]])).days;
  return { counts: totals?.counts ?? {}, revenue: totals?.revenue ?? {}, activeUsers };
}
