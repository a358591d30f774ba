/**
 * An MSK event-source mapping as every consumer function of this system gets it: the topology's
 * settings as the target deploys them (core/mapping.ts `mappingAsDeployed`), turned into a CDK
 * ManagedKafkaEventSource, and the schema-registry read its Glue validation needs. ConsumerFunction
 * (one mapping) and AnalyticsConsumer (one per source topic) both build their mappings here.
 *
 * The mapping runs in provisioned mode, which the error-handling controls and the schema-registry
 * integration need (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html). A target whose
 * Kafka mappings lack some settings (lib/target.ts, LocalStack) gets a mapping without them, as
 * {@link KafkaMappingFeatures} says. Where the target has them, the mapping's metrics are always on
 * (every group): the alarms on what the mapping itself dead-letters, drops or fails at read them.
 * Filters match the JSON `value` only the schema-registry integration delivers, so without it they
 * are left out too: on framed values they would match nothing and drop every record.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  EventRecordFormat,
  EventSourceMappingLogLevel,
  FilterCriteria,
  KafkaSchemaValidationAttribute,
  MetricType,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { GlueSchemaRegistry, KafkaDlq, ManagedKafkaEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import type { EventSourceMappingSettings } from '../../core/topology';
import { type KafkaMappingFeatures, mappingAsDeployed } from '../target';
import type { EventFunction } from './event-function';
import type { KafkaClusterRef } from './kafka-access';
import { acknowledge, acknowledgeWildcardResource } from './nag';
import type { SchemaRegistry } from './schema-registry';

/** The CDK starting position (and timestamp) of a topology starting position. */
function startingPosition(spec: EventSourceMappingSettings['startingPosition']): {
  startingPosition: StartingPosition;
  startingPositionTimestamp?: number;
} {
  switch (spec.type) {
    case 'TRIM_HORIZON':
      return { startingPosition: StartingPosition.TRIM_HORIZON };
    case 'LATEST':
      return { startingPosition: StartingPosition.LATEST };
    case 'AT_TIMESTAMP':
      return {
        startingPosition: StartingPosition.AT_TIMESTAMP,
        startingPositionTimestamp: Math.floor(Date.parse(spec.timestamp) / 1000),
      };
  }
}

/** Every schema of the registry: the mapping looks schema versions up by id. */
const registrySchemasArn = (scope: Construct, registry: SchemaRegistry) =>
  Stack.of(scope).formatArn({
    service: 'glue',
    resource: 'schema',
    resourceName: `${registry.registryName}/*`,
  });

/**
 * What the mapping's Glue validation reads (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html):
 * the registry, and the versions of its schemas, looked up by id. None without a registry (a target
 * without Glue, lib/target.ts).
 */
export function registryReadStatements(
  scope: Construct,
  registry: SchemaRegistry | undefined,
): PolicyStatement[] {
  if (!registry) return [];
  return [
    new PolicyStatement({
      sid: 'GlueReadRegistry',
      actions: ['glue:GetRegistry'],
      resources: [registry.registryArn],
    }),
    new PolicyStatement({
      sid: 'GlueReadSchemaVersions',
      actions: ['glue:GetSchemaVersion'],
      resources: [registry.registryArn, registrySchemasArn(scope, registry)],
    }),
  ];
}

/** Acknowledges, on `role`, the schema wildcard of {@link registryReadStatements}. */
export function acknowledgeRegistrySchemas(role: IRole, registry: SchemaRegistry | undefined): void {
  if (!registry) return;
  acknowledgeWildcardResource(
    role,
    registrySchemasArn(role, registry),
    'The event-source mapping validates each record against the schema version its Glue header names, looking ' +
      "it up by id (glue:GetSchemaVersion), so it reads versions of this registry's schemas and no other registry's " +
      '(https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html).',
  );
}

export interface KafkaMappingProps {
  readonly cluster: KafkaClusterRef;
  readonly topic: string;
  /** The topology's settings of this mapping. */
  readonly mapping: EventSourceMappingSettings;
  /** The mapping settings the target implements. */
  readonly features: KafkaMappingFeatures;
  /** Provisioned pollers. @default the mapping's */
  readonly pollers?: EventSourceMappingSettings['provisionedPollers'];
  /** The Glue registry of the schema-registry integration; a target without Glue has none. */
  readonly registry: SchemaRegistry | undefined;
}

/** Adds the MSK event-source mapping of `props.topic` to the function, as the target deploys it. */
export function addKafkaMapping(target: EventFunction, props: KafkaMappingProps): ManagedKafkaEventSource {
  const { features } = props;
  const deployed = mappingAsDeployed(
    props.mapping,
    features,
    props.pollers ?? props.mapping.provisionedPollers,
  );
  const errorHandling = deployed.errorHandling;
  if (deployed.schemaRegistry && !props.registry)
    throw new Error(
      `the mapping of ${props.topic} uses the schema-registry integration, but the target has no Glue registry`,
    );
  const eventSource = new ManagedKafkaEventSource({
    clusterArn: props.cluster.clusterArn,
    topic: props.topic,
    consumerGroupId: deployed.consumerGroupId,
    ...startingPosition(deployed.startingPosition),
    batchSize: deployed.batchSize,
    maxBatchingWindow: Duration.seconds(deployed.maximumBatchingWindowSeconds),
    ...(errorHandling && {
      retryAttempts: errorHandling.maximumRetryAttempts,
      maxRecordAge:
        errorHandling.maximumRecordAgeSeconds === -1
          ? undefined
          : Duration.seconds(errorHandling.maximumRecordAgeSeconds),
      bisectBatchOnError: errorHandling.bisectBatchOnFunctionError,
    }),
    reportBatchItemFailures: features.partialBatchResponse ? deployed.reportBatchItemFailures : undefined,
    onFailure: deployed.onFailureTopic ? new KafkaDlq(deployed.onFailureTopic) : undefined,
    filters:
      deployed.filters.length > 0 ? deployed.filters.map((f) => FilterCriteria.filter(f.pattern)) : undefined,
    provisionedPollerConfig: deployed.provisionedPollers
      ? {
          minimumPollers: deployed.provisionedPollers.minimum,
          maximumPollers: deployed.provisionedPollers.maximum,
        }
      : undefined,
    schemaRegistryConfig: deployed.schemaRegistry
      ? new GlueSchemaRegistry({
          schemaRegistry: (props.registry as SchemaRegistry).registry,
          eventRecordFormat:
            deployed.schemaRegistry.eventRecordFormat === 'JSON'
              ? EventRecordFormat.JSON
              : EventRecordFormat.SOURCE,
          schemaValidationConfigs: deployed.schemaRegistry.validateValue
            ? [{ attribute: KafkaSchemaValidationAttribute.VALUE }]
            : [],
        })
      : undefined,
    logLevel: features.systemLogs ? EventSourceMappingLogLevel.WARN : undefined,
    // Every metric group, in every stage: the alarms read them (observability.ts).
    metricsConfig: features.metrics
      ? { metrics: [MetricType.EVENT_COUNT, MetricType.ERROR_COUNT, MetricType.KAFKA_METRICS] }
      : undefined,
  });
  target.function.addEventSource(eventSource);
  if (!features.onFailureDestination) {
    // CDK names the mapping `KafkaEventSource:<function id><topic>`.
    const mappingResource = target.function.node
      .findAll()
      .find((c) => c.node.id.startsWith('KafkaEventSource:') && c.node.id.endsWith(props.topic));
    if (!mappingResource) throw new Error(`the MSK event-source mapping of ${props.topic} was not found`);
    acknowledge(
      mappingResource,
      'Serverless-LambdaEventSourceMappingDestination',
      'This deployment target does not implement on-failure destinations for Kafka event-source mappings ' +
        '(lib/target.ts): the handler writes every record it cannot process to <topic>.dlq itself, with the reason.',
    );
  }
  return eventSource;
}
