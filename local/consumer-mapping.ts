/**
 * The project's side of the local event-source mapping library (local/esm/, which knows no project):
 * a consumer of the topology becomes a mapping with the settings the stack deploys
 * (core/mapping.ts `mappingAsDeployed`, the same function CDK builds from), spelled in the Lambda
 * API's names, and the schema-registry step validates against the project's contracts.
 */
import type { Kafka } from 'kafkajs';
import type { KafkaWriter } from '../core/kafka-records';
import { type DeployedMapping, mappingAsDeployed } from '../core/mapping';
import type { ConsumerSpec } from '../core/topology';
import type { ContractName } from '../schemas/index';
import { checkContract } from '../schemas/validator';
import {
  LocalEventSourceMapping,
  type LocalEventSourceMappingOptions,
  type MskEventSourceMappingSettings,
  type SchemaRegistry,
} from './esm/index';

export interface ConsumerMappingOptions
  extends Pick<
    LocalEventSourceMappingOptions,
    'handler' | 'observer' | 'retryBackoffMs' | 'sessionTimeoutMs' | 'log' | 'eventSourceArn'
  > {
  /** The consumer: its name, source topic, function timeout and memory. */
  readonly spec: ConsumerSpec;
  /** The mapping's settings. @default the spec's, as the stack deploys them to AWS (`mappingAsDeployed`) */
  readonly mapping?: DeployedMapping;
  readonly kafka: Kafka;
  /** Writes dead letters to the on-failure destination. */
  readonly writer: KafkaWriter;
  /** Contract of a schema version id, as the registry knows it. */
  readonly schemaOf: (schemaVersionId: string) => Promise<ContractName | undefined>;
  readonly bootstrapServers: string;
}

/** A deployed mapping's settings in the Lambda API's names (API_CreateEventSourceMapping.html). */
function apiSettings(m: DeployedMapping): MskEventSourceMappingSettings {
  const registry = m.schemaRegistry;
  return {
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowSeconds,
    StartingPosition: m.startingPosition.type,
    ...(m.startingPosition.type === 'AT_TIMESTAMP'
      ? { StartingPositionTimestamp: m.startingPosition.timestamp }
      : {}),
    ...(m.errorHandling
      ? {
          MaximumRetryAttempts: m.errorHandling.maximumRetryAttempts,
          MaximumRecordAgeInSeconds: m.errorHandling.maximumRecordAgeSeconds,
          BisectBatchOnFunctionError: m.errorHandling.bisectBatchOnFunctionError,
        }
      : {}),
    FunctionResponseTypes: m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    ...(m.onFailureTopic
      ? { DestinationConfig: { OnFailure: { Destination: `kafka://${m.onFailureTopic}` } } }
      : {}),
    ...(m.filters.length > 0
      ? { FilterCriteria: { Filters: m.filters.map((f) => ({ Pattern: JSON.stringify(f.pattern) })) } }
      : {}),
    AmazonManagedKafkaEventSourceConfig: {
      ConsumerGroupId: m.consumerGroupId,
      ...(registry
        ? {
            SchemaRegistryConfig: {
              EventRecordFormat: registry.eventRecordFormat,
              SchemaValidationConfigs: registry.validateValue ? [{ Attribute: 'VALUE' as const }] : [],
            },
          }
        : {}),
    },
    ...(m.provisionedPollers
      ? {
          ProvisionedPollerConfig: {
            MinimumPollers: m.provisionedPollers.minimum,
            MaximumPollers: m.provisionedPollers.maximum,
          },
        }
      : {}),
  };
}

/** The project's schema registry: each schema version is a contract, validated as the contract's schema. */
function contractRegistry(
  schemaOf: (schemaVersionId: string) => Promise<ContractName | undefined>,
): SchemaRegistry {
  return {
    async lookup(schemaVersionId) {
      const contract = await schemaOf(schemaVersionId);
      return contract && { name: contract, validate: (json) => checkContract(contract, json) };
    },
  };
}

/** The local event-source mapping of a consumer of the topology. */
export function consumerMapping(options: ConsumerMappingOptions): LocalEventSourceMapping {
  const { spec, mapping, schemaOf, ...rest } = options;
  return new LocalEventSourceMapping({
    ...rest,
    functionName: spec.name,
    topic: spec.sourceTopic,
    timeoutSeconds: spec.timeoutSeconds,
    memoryMb: spec.memoryMb,
    settings: apiSettings(mapping ?? mappingAsDeployed(spec.mapping)),
    schemaRegistry: contractRegistry(schemaOf),
  });
}

/**
 * The provisioned pollers a mapping is configured with, null in on-demand mode (MinimumPollers
 * defaults to 1 and MaximumPollers to 200: https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html).
 */
export function pollersOf(
  mapping: Pick<LocalEventSourceMapping, 'settings'>,
): { minimum: number; maximum: number } | null {
  const config = mapping.settings.ProvisionedPollerConfig;
  return config ? { minimum: config.MinimumPollers ?? 1, maximum: config.MaximumPollers ?? 200 } : null;
}
