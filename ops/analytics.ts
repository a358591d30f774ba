/**
 * `npm run ops -- analytics --from YYYY-MM-DD --to YYYY-MM-DD`: the daily aggregates, read from the
 * analytics table with the analytics API's own reader (lambdas/analytics/reader.ts).
 *
 * The table: `ANALYTICS_TABLE` (and `DYNAMODB_ENDPOINT`, e.g. the endpoint of `npm start`) when set;
 * else the table of the stage, `<stage>-analytics` (the name the stack gives it), in AWS_REGION.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DailyResponse } from '../core/analytics-query';
import { FUNCTION_ENV } from '../core/env';
import { type AnalyticsReader, createReader, dynamoClient } from '../lambdas/analytics/reader';
import { UsageError } from './clients';
import type { OpsTarget } from './discover';

/** The analytics table of a stage, as the stack names it. */
const analyticsTableName = (stage: string): string => `${stage}-analytics`;

/** The reader of the table the environment or the target names, and a way to close its client. */
export function opsAnalyticsReader(
  target: OpsTarget,
  env: NodeJS.ProcessEnv,
): { reader: AnalyticsReader; close: () => void } {
  const table = env[FUNCTION_ENV.analyticsTable]?.trim();
  if (table) {
    const client = dynamoClient(env);
    return { reader: createReader({ client, table }), close: () => client.destroy() };
  }
  if (target.kind === 'stage') {
    const client = new DynamoDBClient({ region: target.region });
    return {
      reader: createReader({ client, table: analyticsTableName(target.stage) }),
      close: () => client.destroy(),
    };
  }
  throw new UsageError(
    `analytics needs the table: set ${FUNCTION_ENV.analyticsTable} (with DYNAMODB_ENDPOINT for a local endpoint), or give --stage`,
  );
}

/** One line per day: events in total, active users, the counts by type and the revenue by currency. */
export function formatDaily(response: DailyResponse): string {
  const rows = [
    ['DATE', 'EVENTS', 'ACTIVE USERS', 'COUNTS', 'REVENUE (minor units)'],
    ...response.days.map((d) => [
      d.date,
      String(Object.values(d.counts).reduce((a, b) => a + b, 0)),
      String(d.activeUsers),
      Object.entries(d.counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([type, n]) => `${type}=${n}`)
        .join(' ') || '-',
      Object.entries(d.revenue)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, amount]) => `${currency} ${amount}`)
        .join(', ') || '-',
    ]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) =>
          i < 4 ? (i === 1 || i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)) : cell,
        )
        .join('  '),
    )
    .join('\n');
}
