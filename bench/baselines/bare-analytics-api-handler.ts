/**
 * Cold-start baseline of the analytics API: a handler with nothing but the AWS SDK's DynamoDB client
 * (`@aws-sdk/client-dynamodb`, external in the bundle as in the functions: the Lambda runtime provides
 * it), answering `GET /analytics/daily?from=&to=` for one day with the reads the function does: the
 * day's totals item (BatchGetItem) and a count of the day's active users (Query, `Select: COUNT`). No
 * range checks, no middleware. Bundled with the same settings as the functions. Not deployed.
 */
import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT,
  region: process.env.AWS_REGION,
});

export async function handler(event: { queryStringParameters: { from: string } }) {
  const table = process.env.ANALYTICS_TABLE ?? '';
  const day = event.queryStringParameters.from;
  const [totals, users] = await Promise.all([
    client.send(
      new BatchGetItemCommand({
        RequestItems: { [table]: { Keys: [{ pk: { S: `DAY#${day}` }, sk: { S: 'TOTALS' } }] } },
      }),
    ),
    client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :user)',
        ExpressionAttributeValues: { ':pk': { S: `DAY#${day}` }, ':user': { S: 'USER#' } },
        Select: 'COUNT',
      }),
    ),
  ]);
  const item = totals.Responses?.[table]?.[0] ?? {};
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ days: [{ day, totals: item, activeUsers: users.Count ?? 0 }] }),
  };
}
