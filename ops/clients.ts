/**
 * How the operator tools (`npm run ops`, the live view) reach Kafka: the same settings and client
 * factory as the functions (core/env.ts, lambdas/shared/kafka.ts), so `KAFKA_AUTH=iam`
 * talks to MSK with IAM exactly as the deployed functions do.
 */
import type { Admin, Kafka } from 'kafkajs';
import { ConfigurationError, type KafkaSettings, readEnvironment } from '../core/env';
import { createKafka } from '../lambdas/shared/kafka';

/** A problem the operator can act on: printed as one line, exit status {@link exitCode}. */
export class OpsError extends Error {
  override readonly name: string = 'OpsError';
  constructor(
    message: string,
    /** 1: the operation failed; 2: the command line was wrong. */
    readonly exitCode: 1 | 2 = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The command line or its environment is wrong (exit status 2). */
export class UsageError extends OpsError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/** The embedded broker of `npm start`. */
const DEFAULT_BROKERS = '127.0.0.1:9092';

/** What every operation needs: a client to create consumers and producers, and a connected admin. */
export interface OpsClients {
  readonly kafka: Kafka;
  readonly admin: Admin;
}

/**
 * Kafka settings from `KAFKA_BROKERS` (default {@link DEFAULT_BROKERS}), `KAFKA_AUTH` (`plaintext` or
 * `iam`) and `AWS_REGION`, checked by the functions' own reader. Only these variables are passed on,
 * so a stray `SCHEMA_VERSION_IDS` or `AWS_LAMBDA_FUNCTION_NAME` in the shell changes nothing.
 */
export function opsSettings(env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  try {
    return readEnvironment({
      KAFKA_BROKERS: env.KAFKA_BROKERS?.trim() || DEFAULT_BROKERS,
      KAFKA_AUTH: env.KAFKA_AUTH,
      AWS_REGION: env.AWS_REGION,
      AWS_DEFAULT_REGION: env.AWS_DEFAULT_REGION,
      KAFKA_CLIENT_ID: env.KAFKA_CLIENT_ID ?? 'ops-cli',
    }).kafka;
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(error.message);
    throw error;
  }
}

/** A connected admin and the client it came from; `close` disconnects. */
export interface ConnectedOps extends OpsClients {
  close(): Promise<void>;
}

/**
 * Connects to the cluster or throws an {@link OpsError} naming it. kafkajs' own log stays off unless
 * KAFKAJS_LOG_LEVEL asks for it (then it goes to stderr, never mixed into the command's output):
 * it reports retriable errors at ERROR level, which would bury the one line that matters.
 */
export async function connectOps(settings: KafkaSettings): Promise<ConnectedOps> {
  const verbose = process.env.KAFKAJS_LOG_LEVEL !== undefined;
  const kafka = createKafka(settings, (level, message, details) => {
    if (verbose) process.stderr.write(`[kafkajs ${level}] ${message} ${JSON.stringify(details)}\n`);
  });
  // Fewer retries than the functions use: an operator waiting on a wrong address wants to know soon.
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 } });
  try {
    await admin.connect();
  } catch (error) {
    await admin.disconnect().catch(() => {});
    throw new OpsError(
      `cannot reach Kafka at ${settings.brokers.join(',')} (${settings.auth}): ${(error as Error).message}`,
      1,
      { cause: error },
    );
  }
  return { kafka, admin, close: () => admin.disconnect().catch(() => {}) };
}
