/**
 * Cold-start baseline of the analytics function: a handler with nothing but the AWS SDK's DynamoDB
 * client (`@aws-sdk/client-dynamodb`, external in the bundle as in the functions: the Lambda runtime
 * provides it), which reads the JSON value of each record of an MSK event (plain JSON, as the mapping's
 * schema-registry integration delivers it) and counts it with the TransactWriteItems the function
 * sends (the items of core/analytics.ts `transactionOf`). An event counted before (its marker's
 * condition fails) is left alone, as the function does: the suite sends the same event to every
 * fresh process. No validation, no dead letters, no middleware. Bundled with the same settings as the
 * functions. Not deployed.
 */
import {
  DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { countable, transactionOf } from '../../core/analytics';
import type { AnyEvent } from '../../schemas/index';

const client = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT,
  region: process.env.AWS_REGION,
});

export async function handler(event: { records: Record<string, { value: string }[]> }) {
  const events = Object.values(event.records)
    .flat()
    .map((r) => countable(JSON.parse(Buffer.from(r.value, 'base64').toString('utf8')) as AnyEvent));
  const tx = transactionOf(process.env.ANALYTICS_TABLE ?? '', events, Math.floor(Date.now() / 1000));
  try {
    await client.send(new TransactWriteItemsCommand({ TransactItems: tx.items as never }));
  } catch (error) {
    const counted =
      error instanceof TransactionCanceledException &&
      (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
    if (!counted) throw error;
  }
  return { batchItemFailures: [] };
}
