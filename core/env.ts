/**
 * The functions' configuration, read from the environment once at cold start and checked then, so a
 * misconfigured function fails at its first invocation with a message naming the variable, not
 * halfway through a batch. The CDK stack sets these; the local runtime sets the same names.
 */
import type { ContractName } from '../schemas/index';

/** A required environment variable is missing or malformed. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export interface KafkaSettings {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** `iam`: TLS + SASL OAUTHBEARER with MSK IAM tokens (AWS); `plaintext`: a local broker. */
  readonly auth: 'iam' | 'plaintext';
  /** Region for MSK IAM tokens. */
  readonly region: string | undefined;
  readonly clientId: string;
}

export interface FunctionEnvironment {
  readonly kafka: KafkaSettings;
  /** Glue schema version id of each contract, when the deployment provides them (`SCHEMA_VERSION_IDS`). */
  readonly schemaVersionIds: Partial<Record<ContractName, string>> | undefined;
}

/** The variables the functions read; the CDK stack and the local runtime set them (see {@link kafkaEnvironment}). */
export const FUNCTION_ENV = {
  brokers: 'KAFKA_BROKERS',
  auth: 'KAFKA_AUTH',
  schemaVersionIds: 'SCHEMA_VERSION_IDS',
  /** The analytics table (lambdas/analytics/). */
  analyticsTable: 'ANALYTICS_TABLE',
  /** Another DynamoDB endpoint (the local runtime's moto server, DynamoDB Local, LocalStack). */
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
} as const;

/**
 * A function's Kafka environment, as the stack (with deploy-time values) and the local runtime set it:
 * the bootstrap brokers, the client authentication and, when the deployment has them, the schema
 * version ids (JSON of contract name to Glue schema version id).
 */
export function kafkaEnvironment(values: {
  readonly brokers: string;
  readonly auth: KafkaSettings['auth'];
  readonly schemaVersionIds?: string;
}): Record<string, string> {
  return {
    [FUNCTION_ENV.brokers]: values.brokers,
    [FUNCTION_ENV.auth]: values.auth,
    ...(values.schemaVersionIds === undefined
      ? {}
      : { [FUNCTION_ENV.schemaVersionIds]: values.schemaVersionIds }),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads and checks the environment of a function. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): FunctionEnvironment {
  const brokers = (env[FUNCTION_ENV.brokers] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0)
    throw new ConfigurationError(
      'KAFKA_BROKERS is not set: give the bootstrap brokers as host:port,host:port',
    );
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker))
      throw new ConfigurationError(`KAFKA_BROKERS: "${broker}" is not host:port`);
  }
  const auth = (env[FUNCTION_ENV.auth] ?? 'plaintext').toLowerCase();
  if (auth !== 'iam' && auth !== 'plaintext') {
    throw new ConfigurationError(`KAFKA_AUTH must be "iam" or "plaintext", not "${env.KAFKA_AUTH}"`);
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (auth === 'iam' && !region)
    throw new ConfigurationError('KAFKA_AUTH=iam needs AWS_REGION to sign MSK IAM tokens');

  let schemaVersionIds: FunctionEnvironment['schemaVersionIds'];
  const ids = env[FUNCTION_ENV.schemaVersionIds];
  if (ids) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ids);
    } catch {
      throw new ConfigurationError(
        'SCHEMA_VERSION_IDS is not JSON: expected {"<contract>": "<schema version id>"}',
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigurationError(
        'SCHEMA_VERSION_IDS must be a JSON object of contract name to schema version id',
      );
    }
    for (const [name, id] of Object.entries(parsed)) {
      if (typeof id !== 'string' || !UUID.test(id)) {
        throw new ConfigurationError(`SCHEMA_VERSION_IDS: the id of "${name}" is not a UUID`);
      }
    }
    schemaVersionIds = parsed as Partial<Record<ContractName, string>>;
  }
  return {
    kafka: {
      brokers,
      auth,
      region,
      clientId: env.AWS_LAMBDA_FUNCTION_NAME ?? env.KAFKA_CLIENT_ID ?? 'msk-serverless-events',
    },
    schemaVersionIds,
  };
}
