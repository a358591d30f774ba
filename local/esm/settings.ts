/**
 * The settings of an MSK event-source mapping, spelled as the Lambda API spells them
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html), so a
 * `CreateEventSourceMapping` request, a CloudFormation `AWS::Lambda::EventSourceMapping` or a CDK
 * `CfnEventSourceMapping` can be copied in; and their reading, with AWS's defaults and ranges. Which
 * settings apply to Amazon MSK and their defaults:
 * https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html.
 */
import { checkFilters, FilterPatternError, type FilterSpec } from './filters';

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

/** `KafkaSchemaRegistryConfig` (https://docs.aws.amazon.com/lambda/latest/api/API_KafkaSchemaRegistryConfig.html). */
export interface KafkaSchemaRegistryConfig {
  /** The registry's ARN on AWS; informative here: records are looked up in the `schemaRegistry` option. */
  readonly SchemaRegistryURI?: string;
  /**
   * `JSON`: the value is delivered as the JSON the registry deserialized, with `valueSchemaMetadata`.
   * `SOURCE`: in its source format, "Lambda removes all schema metadata, such as the schema ID".
   */
  readonly EventRecordFormat: 'JSON' | 'SOURCE';
  /** `[{ Attribute: 'VALUE' }]` validates each value against its schema version. */
  readonly SchemaValidationConfigs?: readonly { readonly Attribute: 'KEY' | 'VALUE' }[];
}

/** The MSK event-source mapping settings this library runs by. Only `StartingPosition` is required. */
export interface MskEventSourceMappingSettings {
  /** Records per invocation, 1–10,000. @default 100 */
  readonly BatchSize?: number;
  /** Seconds to gather records before invoking, 0–300. @default 0.5 (Lambda's 500 ms for Kafka) */
  readonly MaximumBatchingWindowInSeconds?: number;
  /** Where a consumer group with no committed offsets starts. */
  readonly StartingPosition: StartingPosition;
  /**
   * With `AT_TIMESTAMP`: a Date, an ISO 8601 string, or epoch seconds (the API's JSON form).
   */
  readonly StartingPositionTimestamp?: Date | string | number;
  /** -1 (infinite) to 10,000. @default -1; infinite with an on-failure destination means 10 */
  readonly MaximumRetryAttempts?: number;
  /** -1 (infinite) or 60–604,800. @default -1 */
  readonly MaximumRecordAgeInSeconds?: number;
  /** Split a failing batch in two before retrying. @default false */
  readonly BisectBatchOnFunctionError?: boolean;
  /** `['ReportBatchItemFailures']` turns on partial batch responses. @default [] */
  readonly FunctionResponseTypes?: readonly 'ReportBatchItemFailures'[];
  /** `{ OnFailure: { Destination: 'kafka://<topic>' } }`: where records given up on go. */
  readonly DestinationConfig?: { readonly OnFailure?: { readonly Destination?: string } };
  /** `{ Filters: [{ Pattern: '<JSON text>' }] }`, patterns on `value` only. */
  readonly FilterCriteria?: { readonly Filters?: readonly { readonly Pattern?: string }[] };
  readonly AmazonManagedKafkaEventSourceConfig?: {
    /** The consumer group. @default a unique id per mapping object (Lambda: "a unique value") */
    readonly ConsumerGroupId?: string;
    readonly SchemaRegistryConfig?: KafkaSchemaRegistryConfig;
  };
  /** Accepted and reported back (`mapping.settings`); locally one consumer reads every partition. */
  readonly ProvisionedPollerConfig?: { readonly MinimumPollers?: number; readonly MaximumPollers?: number };
}

/** The settings as the mapping runs them: defaults applied, values checked. */
export interface ResolvedSettings {
  readonly consumerGroupId: string;
  readonly startingPosition: StartingPosition;
  /** Epoch milliseconds, with `AT_TIMESTAMP`. */
  readonly startingTimestampMs: number | undefined;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  /** -1: infinite (10 with an on-failure destination, applied by the mapping). */
  readonly maximumRetryAttempts: number;
  /** -1: infinite. */
  readonly maximumRecordAgeSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly onFailureTopic: string | undefined;
  readonly filters: readonly FilterSpec[];
  readonly schemaRegistry:
    | { readonly format: 'JSON' | 'SOURCE'; readonly validateValue: boolean }
    | undefined;
}

/** Settings Lambda would refuse, or that this library does not run: which one and why. */
export class MappingSettingsError extends Error {
  override readonly name = 'MappingSettingsError';
}

const STARTING_POSITIONS: readonly string[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'];

/**
 * Reads `settings`, applying AWS's defaults and ranges (API_CreateEventSourceMapping.html;
 * msk-esm-parameters.html for the Kafka defaults; kafka-retry-configurations.html for the record
 * age's 60 s minimum). Throws a {@link MappingSettingsError} naming the field, or a
 * FilterPatternError naming the filter.
 */
export function resolveSettings(settings: MskEventSourceMappingSettings, where: string): ResolvedSettings {
  const fail = (message: string): never => {
    throw new MappingSettingsError(`${where}: ${message}`);
  };
  if (!settings || typeof settings !== 'object') fail('settings must be an object');
  const integer = (
    field: keyof MskEventSourceMappingSettings,
    fallback: number,
    min: number,
    max: number,
  ) => {
    const value = settings[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      fail(`${field} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
    return value as number;
  };

  const batchSize = integer('BatchSize', 100, 1, 10_000);
  // An absent window is Lambda's 500 ms for Kafka; a given one is whole seconds, 0–300.
  const batchingWindowMs =
    settings.MaximumBatchingWindowInSeconds === undefined
      ? 500
      : integer('MaximumBatchingWindowInSeconds', 0, 0, 300) * 1000;
  const maximumRetryAttempts = integer('MaximumRetryAttempts', -1, -1, 10_000);
  const maximumRecordAgeSeconds = integer('MaximumRecordAgeInSeconds', -1, -1, 604_800);
  if (maximumRecordAgeSeconds !== -1 && maximumRecordAgeSeconds < 60)
    fail(`MaximumRecordAgeInSeconds must be -1 or 60 to 604800, not ${maximumRecordAgeSeconds}`);

  const position = settings.StartingPosition;
  if (!STARTING_POSITIONS.includes(position))
    fail(`StartingPosition must be one of ${STARTING_POSITIONS.join(', ')}, not ${JSON.stringify(position)}`);
  let startingTimestampMs: number | undefined;
  if (position === 'AT_TIMESTAMP') {
    const t = settings.StartingPositionTimestamp;
    startingTimestampMs =
      t instanceof Date
        ? t.getTime()
        : typeof t === 'number'
          ? t * 1000
          : t === undefined
            ? NaN
            : Date.parse(t);
    if (!Number.isFinite(startingTimestampMs))
      fail(
        `StartingPositionTimestamp must be a Date, an ISO 8601 string or epoch seconds with AT_TIMESTAMP, not ${JSON.stringify(t)}`,
      );
  }

  const types = settings.FunctionResponseTypes ?? [];
  for (const type of types)
    if (type !== 'ReportBatchItemFailures')
      fail(`FunctionResponseTypes may hold only ReportBatchItemFailures, not ${JSON.stringify(type)}`);

  // A Kafka on-failure destination is `kafka://<topic>`
  // (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html); SQS, SNS and
  // S3 destinations are not emulated.
  let onFailureTopic: string | undefined;
  const destination = settings.DestinationConfig?.OnFailure?.Destination;
  if (destination !== undefined) {
    const topic = /^kafka:\/\/(.+)$/.exec(destination)?.[1];
    if (!topic)
      fail(
        `DestinationConfig.OnFailure.Destination must be kafka://<topic> (SQS, SNS and S3 destinations are not emulated), not ${JSON.stringify(destination)}`,
      );
    onFailureTopic = topic;
  }

  const filters: FilterSpec[] = (settings.FilterCriteria?.Filters ?? []).map((filter, i) => {
    let pattern: unknown;
    try {
      pattern = JSON.parse(String(filter?.Pattern));
    } catch (error) {
      throw new FilterPatternError(
        `${where}: FilterCriteria.Filters[${i}].Pattern is not JSON text: ${(error as Error).message}`,
      );
    }
    if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern))
      throw new FilterPatternError(`${where}: FilterCriteria.Filters[${i}].Pattern must be a JSON object`);
    return { pattern: pattern as Record<string, unknown> };
  });
  checkFilters(filters);

  const kafkaConfig = settings.AmazonManagedKafkaEventSourceConfig;
  const consumerGroupId = kafkaConfig?.ConsumerGroupId ?? crypto.randomUUID();
  // AmazonManagedKafkaEventSourceConfig.ConsumerGroupId: 1–200 characters of [a-zA-Z0-9-\/*:_+=.@-]
  // (https://docs.aws.amazon.com/lambda/latest/api/API_AmazonManagedKafkaEventSourceConfig.html).
  if (!/^[a-zA-Z0-9\-/*:_+=.@]{1,200}$/.test(consumerGroupId))
    fail(
      `AmazonManagedKafkaEventSourceConfig.ConsumerGroupId must be 1–200 characters of letters, digits and -/*:_+=.@, not ${JSON.stringify(consumerGroupId)}`,
    );

  let schemaRegistry: ResolvedSettings['schemaRegistry'];
  const registry = kafkaConfig?.SchemaRegistryConfig;
  if (registry) {
    if (registry.EventRecordFormat !== 'JSON' && registry.EventRecordFormat !== 'SOURCE')
      fail(
        `SchemaRegistryConfig.EventRecordFormat must be JSON or SOURCE, not ${JSON.stringify(registry.EventRecordFormat)}`,
      );
    const attributes = (registry.SchemaValidationConfigs ?? []).map((c) => c?.Attribute);
    for (const attribute of attributes) {
      if (attribute === 'KEY')
        fail('SchemaRegistryConfig.SchemaValidationConfigs: KEY validation is not emulated (VALUE is)');
      if (attribute !== 'VALUE')
        fail(
          `SchemaRegistryConfig.SchemaValidationConfigs: Attribute must be KEY or VALUE, not ${attribute}`,
        );
    }
    schemaRegistry = { format: registry.EventRecordFormat, validateValue: attributes.includes('VALUE') };
  }

  return {
    consumerGroupId,
    startingPosition: position,
    startingTimestampMs,
    batchSize,
    batchingWindowMs,
    maximumRetryAttempts,
    maximumRecordAgeSeconds,
    bisectBatchOnFunctionError: settings.BisectBatchOnFunctionError ?? false,
    reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
    onFailureTopic,
    filters,
    schemaRegistry,
  };
}
