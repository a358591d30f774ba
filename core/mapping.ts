/**
 * An event-source mapping's settings as a deployment target runs them: the one function that turns a
 * consumer's topology settings into the mapping CDK deploys (lib/constructs/consumer-function.ts) and
 * the local event-source mapping runs (local/esm/poller.ts). Which target implements what is
 * lib/target.ts's knowledge; this module only applies it.
 */
import type { EventSourceMappingSettings } from './topology';

/** Settings of the MSK event-source mappings a target implements (AWS: all of them). */
export interface KafkaMappingFeatures {
  /** ProvisionedPollerConfig (provisioned mode). */
  readonly provisionedPollers: boolean;
  /** MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError. */
  readonly errorHandling: boolean;
  /** FunctionResponseTypes ReportBatchItemFailures (partial batch responses). */
  readonly partialBatchResponse: boolean;
  /** DestinationConfig.OnFailure, the `<topic>.dlq` Kafka destination. */
  readonly onFailureDestination: boolean;
  /**
   * AmazonManagedKafkaEventSourceConfig.SchemaRegistryConfig (Glue validation and JSON delivery).
   * Without it records arrive Glue-framed, which the handlers read too; filters on `value` need the
   * JSON delivery, so ConsumerFunction leaves them out then (the handlers process the filtered-out
   * types, e.g. user_login, as records with nothing to derive).
   */
  readonly schemaRegistry: boolean;
  /** LoggingConfig (the mapping's system log level). */
  readonly systemLogs: boolean;
  /** MetricsConfig (EventCount, ErrorCount, KafkaMetrics), on in every stage where implemented. */
  readonly metrics: boolean;
}

/** Every setting, as AWS implements them. */
export const ALL_MAPPING_FEATURES: KafkaMappingFeatures = {
  provisionedPollers: true,
  errorHandling: true,
  partialBatchResponse: true,
  onFailureDestination: true,
  schemaRegistry: true,
  systemLogs: true,
  metrics: true,
};

/**
 * An event-source mapping's settings as a target deploys them: the topology's settings less what the
 * target does not implement, each left at the value AWS uses when the setting is absent
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html: MaximumRetryAttempts
 * and MaximumRecordAgeInSeconds default to -1, infinite; BisectBatchOnFunctionError to false; no
 * FunctionResponseTypes, DestinationConfig, FilterCriteria or SchemaRegistryConfig). ConsumerFunction
 * builds the CDK mapping from it and the local event-source mapping runs by it, so the two read the
 * same settings from the same place.
 */
export interface DeployedMapping {
  readonly consumerGroupId: string;
  readonly startingPosition: EventSourceMappingSettings['startingPosition'];
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  /** Absent where the target lacks the error-handling controls: AWS's defaults apply. */
  readonly errorHandling:
    | {
        readonly maximumRetryAttempts: number;
        readonly maximumRecordAgeSeconds: number;
        readonly bisectBatchOnFunctionError: boolean;
      }
    | undefined;
  readonly reportBatchItemFailures: boolean;
  /** The Kafka on-failure destination's topic, if the target has one. */
  readonly onFailureTopic: string | undefined;
  /**
   * Filters on the record value. Only where the schema-registry integration delivers values as JSON:
   * on Glue-framed values a pattern on a JSON field matches nothing and would drop every record. The
   * producers frame every value, with Glue's schema version ids or, on a target without a Glue
   * registry, the contract files' ids, so without the integration the values are framed either way.
   */
  readonly filters: EventSourceMappingSettings['filters'];
  readonly provisionedPollers: EventSourceMappingSettings['provisionedPollers'] | undefined;
  readonly schemaRegistry: EventSourceMappingSettings['schemaRegistry'] | undefined;
}

/** The settings of `mapping` as a target with `features` deploys them (see {@link DeployedMapping}). */
export function mappingAsDeployed(
  mapping: EventSourceMappingSettings,
  features: KafkaMappingFeatures = ALL_MAPPING_FEATURES,
  pollers: EventSourceMappingSettings['provisionedPollers'] = mapping.provisionedPollers,
): DeployedMapping {
  const schemaRegistry = features.schemaRegistry ? mapping.schemaRegistry : undefined;
  return {
    consumerGroupId: mapping.consumerGroupId,
    startingPosition: mapping.startingPosition,
    batchSize: mapping.batchSize,
    maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
    errorHandling: features.errorHandling
      ? {
          maximumRetryAttempts: mapping.maximumRetryAttempts,
          maximumRecordAgeSeconds: mapping.maximumRecordAgeSeconds,
          bisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
        }
      : undefined,
    reportBatchItemFailures: features.partialBatchResponse && mapping.reportBatchItemFailures,
    onFailureTopic: features.onFailureDestination ? mapping.onFailureTopic : undefined,
    filters: schemaRegistry?.eventRecordFormat === 'JSON' ? mapping.filters : [],
    provisionedPollers: features.provisionedPollers ? pollers : undefined,
    schemaRegistry,
  };
}
