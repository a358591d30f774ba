/**
 * The analytics table through the AWS SDK: counts a batch's events exactly once with the transactions
 * core/analytics.ts builds.
 *
 * TransactWriteItems (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html)
 * is all or nothing. When it is cancelled, TransactionCanceledException carries `CancellationReasons`,
 * one per action in request order, `Code` `None` for an action that was fine: a `ConditionalCheckFailed`
 * on an event marker means that event was counted before (a redelivery), so it is dropped and the
 * transaction is sent again without it; a `TransactionConflict` (another transaction on the same day's
 * totals at that moment, e.g. the mapping of another topic) is retried after a short, growing, random
 * pause. Anything else fails the events not yet counted ({@link StoreFailure}); the handler reports
 * them so Lambda retries them, and the markers make the retry safe.
 */
import type {
  CancellationReason,
  DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { type Countable, chunkEvents, transactionOf } from '../../core/analytics';
import { ConfigurationError, FUNCTION_ENV } from '../../core/env';

/** What counting a batch did. */
export interface CountResult {
  /** Events counted now. */
  readonly counted: number;
  /** Events already counted (their marker existed) or repeated in the batch: not counted again. */
  readonly duplicates: number;
}

/** Counting stopped; the events in `uncounted` are not counted and must be delivered again. */
export class StoreFailure extends Error {
  override readonly name = 'StoreFailure';
  constructor(
    message: string,
    readonly uncounted: ReadonlySet<string>,
    readonly counted: number,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export interface AnalyticsStore {
  count(events: readonly Countable[]): Promise<CountResult>;
}

export interface DynamoStoreOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tableName: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** Attempts of a transaction cancelled by conflicts only. @default 8 */
  readonly conflictAttempts?: number;
}

/**
 * The SDK, loaded at the first batch rather than with the code: it loads node:http, which nothing
 * else in a function loads at start (test/unit/entrypoints.test.ts checks it of every bundle), and
 * the function's start-up stays as short as the other consumers'.
 */
const sdk = () => import('@aws-sdk/client-dynamodb');

const reasonsOf = (error: TransactionCanceledException): readonly CancellationReason[] =>
  error.CancellationReasons ?? [];

/** The store on a DynamoDB table. */
export function dynamoStore(options: DynamoStoreOptions): AnalyticsStore {
  const now = options.now ?? Date.now;
  const conflictAttempts = options.conflictAttempts ?? 8;
  return {
    async count(events) {
      const { TransactWriteItemsCommand, TransactionCanceledException } = await sdk();
      const chunks = chunkEvents(events);
      let counted = 0;
      for (const [index, chunk] of chunks.entries()) {
        let remaining = chunk;
        let conflicts = 0;
        while (remaining.length > 0) {
          const tx = transactionOf(options.tableName, remaining, Math.floor(now() / 1000));
          try {
            await options.client.send(
              new TransactWriteItemsCommand({
                TransactItems: tx.items as TransactWriteItemsCommandInput['TransactItems'],
              }),
            );
            counted += remaining.length;
            break;
          } catch (error) {
            const pending = () =>
              new Set(
                chunks
                  .slice(index + 1)
                  .flat()
                  .concat(remaining)
                  .map((e) => e.eventId),
              );
            if (!(error instanceof TransactionCanceledException)) {
              throw new StoreFailure(
                `counting into ${options.tableName} failed: ${(error as Error).message}`,
                pending(),
                counted,
                error,
              );
            }
            const reasons = reasonsOf(error);
            const known = new Set<string>();
            let conflict = false;
            let other: string | undefined;
            for (const [i, reason] of reasons.entries()) {
              const code = reason.Code ?? 'None';
              if (code === 'None') continue;
              const eventId = tx.eventIds[i];
              if (code === 'ConditionalCheckFailed' && eventId !== undefined) known.add(eventId);
              else if (code === 'TransactionConflict') conflict = true;
              else other ??= `${code}${reason.Message ? `: ${reason.Message}` : ''}`;
            }
            if (other !== undefined || (known.size === 0 && !conflict)) {
              throw new StoreFailure(
                `counting into ${options.tableName} was cancelled: ${other ?? error.message}`,
                pending(),
                counted,
                error,
              );
            }
            if (known.size > 0) {
              remaining = remaining.filter((e) => !known.has(e.eventId));
            } else if (++conflicts >= conflictAttempts) {
              throw new StoreFailure(
                `counting into ${options.tableName} conflicted with other transactions ${conflicts} times`,
                pending(),
                counted,
                error,
              );
            } else {
              await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 25 * 2 ** conflicts)));
            }
          }
        }
      }
      return { counted, duplicates: events.length - counted };
    },
  };
}

/**
 * The function's DynamoDB client: the default endpoint, or `DYNAMODB_ENDPOINT` (the local runtime's
 * moto server, DynamoDB Local, LocalStack). The SDK also honours `AWS_ENDPOINT_URL_DYNAMODB`
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). Against a local
 * endpoint with no credentials in the environment, placeholder ones are used: such endpoints accept any.
 */
export async function analyticsClient(env: NodeJS.ProcessEnv = process.env): Promise<DynamoDBClient> {
  const { DynamoDBClient } = await sdk();
  return new DynamoDBClient(analyticsClientConfig(env));
}

/** The settings of {@link analyticsClient}, for a client built synchronously (the API's reader). */
export function analyticsClientConfig(env: NodeJS.ProcessEnv = process.env): {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const endpoint = env[FUNCTION_ENV.dynamodbEndpoint]?.trim() || undefined;
  if (!endpoint) return {};
  if (!/^https?:\/\/[^\s/]+/.test(endpoint))
    throw new ConfigurationError(`DYNAMODB_ENDPOINT="${endpoint}" is not an http(s) URL`);
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(env.AWS_ACCESS_KEY_ID ? {} : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  };
}

/** The table named by `ANALYTICS_TABLE`, or an error saying it is not set. */
export function analyticsTable(env: NodeJS.ProcessEnv = process.env): string {
  const name = env[FUNCTION_ENV.analyticsTable]?.trim();
  if (!name) throw new ConfigurationError('ANALYTICS_TABLE is not set: give the analytics table name');
  return name;
}
