/**
 * One consumer of the topology: its function and the MSK event-source mapping that feeds it, with
 * every mapping setting taken from the consumer's spec in core/topology.ts.
 *
 * The mapping runs in provisioned mode, which the error-handling controls and the schema-registry
 * integration need (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html): CDK does not
 * check this, so {@link ConsumerFunction} requires pollers.
 *
 * A target whose Kafka mappings lack some of these settings (lib/target.ts, LocalStack) gets a mapping
 * without them, as {@link KafkaMappingFeatures} says: no provisioned mode, error-handling controls,
 * partial batch responses, on-failure destination, schema-registry integration, system logs or
 * metrics. Where the target has them, the mapping's metrics are always on (every group): the alarms
 * on what the mapping itself dead-letters, drops or fails at read them. The handler is the same: it dead-letters poison records itself and reads records both as
 * the schema-registry integration delivers them (JSON) and as produced (Glue-framed). Filters match the
 * JSON `value` only the integration delivers, so without it they are left out too: on framed values
 * they would match nothing and drop every record.
 *
 * Permissions, all on the function's execution role (the mapping uses it too):
 * - read the source topic as the consumer group (the mapping),
 * - write the derived topics and the dead-letter topic (the handler, and the mapping's on-failure
 *   destination: https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html),
 * - read the registry's schemas (the mapping's Glue validation,
 *   https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html),
 * - describe this cluster (DescribeClusterV2), look up its brokers (GetBootstrapBrokers, on `*`: it has
 *   no resource type) and manage network interfaces (what AWSLambdaMSKExecutionRole grants on `*`).
 */

import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  EventRecordFormat,
  EventSourceMappingLogLevel,
  FilterCriteria,
  KafkaSchemaValidationAttribute,
  MetricType,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { GlueSchemaRegistry, KafkaDlq, ManagedKafkaEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_ENV, kafkaEnvironment } from '../../core/env';
import { type ConsumerSpec, topicsWrittenBy } from '../../core/topology';
import type { LogLevel } from '../config';
import {
  type KafkaClientAuth,
  type KafkaMappingFeatures,
  mappingAsDeployed,
  TARGET_FEATURES,
} from '../target';
import { EventFunction } from './event-function';
import {
  type KafkaClusterRef,
  kafkaConsumerStatements,
  kafkaProducerStatements,
  mskMappingClusterStatements,
} from './kafka-access';
import { acknowledge, acknowledgeWildcardResource } from './nag';
import type { SchemaRegistry } from './schema-registry';

export interface ConsumerFunctionProps {
  /** The consumer, from core/topology.ts. */
  readonly spec: ConsumerSpec;
  /** Stage prefix of the function name. */
  readonly stage: string;
  readonly cluster: KafkaClusterRef;
  /** `host:port,...`: the client listener's bootstrap brokers (a deploy-time value). */
  readonly bootstrapBrokers: string;
  /** How the handler authenticates to the brokers (`KAFKA_AUTH`). @default 'iam' */
  readonly kafkaAuth?: KafkaClientAuth;
  /** The mapping settings the target implements. @default all of them (AWS) */
  readonly mappingFeatures?: KafkaMappingFeatures;
  /** Upper bound of the length of {@link bootstrapBrokers}, for the environment size check. */
  readonly bootstrapBrokersMaxLength: number;
  readonly registry: SchemaRegistry;
  /** `SCHEMA_VERSION_IDS`: JSON of contract name to Glue schema version id (a deploy-time value). */
  readonly schemaVersionIds: string;
  /** Upper bound of the length of {@link schemaVersionIds}. */
  readonly schemaVersionIdsMaxLength: number;
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroup: ISecurityGroup;
  /** The cluster's security groups, which Lambda gives the mapping's pollers. */
  readonly clusterSecurityGroups: readonly ISecurityGroup[];
  /** Provisioned pollers. @default the spec's */
  readonly pollers?: { readonly minimum: number; readonly maximum: number };
  readonly logLevel: LogLevel;
  readonly metricsNamespace: string;
  /** Powertools Tracer in the function (see ObservabilityConfig.tracer). @default false */
  readonly tracer?: boolean;
  readonly logRetention: RetentionDays;
  /** Encrypts its log group (lib/constructs/log-key.ts). @default CloudWatch Logs' own encryption */
  readonly logKey?: IKey;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The CDK starting position (and timestamp) of a topology starting position. */
function startingPosition(spec: ConsumerSpec['mapping']['startingPosition']): {
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

export class ConsumerFunction extends Construct {
  readonly eventFunction: EventFunction;
  readonly eventSource: ManagedKafkaEventSource;
  readonly spec: ConsumerSpec;
  /**
   * Whether the mapping publishes its own metrics (MetricsConfig: EventCount, ErrorCount and
   * KafkaMetrics, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics):
   * wherever the target implements them.
   */
  readonly mappingMetrics: boolean;

  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const mapping = spec.mapping;
    const pollers = props.pollers ?? mapping.provisionedPollers;
    const features = props.mappingFeatures ?? TARGET_FEATURES.aws.kafkaMapping;
    this.spec = spec;
    this.mappingMetrics = features.metrics;

    // Every schema of this registry: the mapping looks schema versions up by id.
    const registrySchemasArn = Stack.of(this).formatArn({
      service: 'glue',
      resource: 'schema',
      resourceName: `${props.registry.registryName}/*`,
    });
    const registryStatements = [
      new PolicyStatement({
        sid: 'GlueReadRegistry',
        actions: ['glue:GetRegistry'],
        resources: [props.registry.registryArn],
      }),
      new PolicyStatement({
        sid: 'GlueReadSchemaVersions',
        actions: ['glue:GetSchemaVersion'],
        resources: [props.registry.registryArn, registrySchemasArn],
      }),
    ];

    this.eventFunction = new EventFunction(this, 'Function', {
      functionName: `${props.stage}-${spec.name}`,
      entry: spec.entry,
      description: `${spec.description} Consumes ${spec.sourceTopic}.`,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [props.securityGroup],
      networkInterfaceSecurityGroups: [props.securityGroup, ...props.clusterSecurityGroups],
      serviceName: spec.name,
      logLevel: props.logLevel,
      metricsNamespace: props.metricsNamespace,
      tracer: props.tracer,
      environment: kafkaEnvironment({
        brokers: props.bootstrapBrokers,
        auth: props.kafkaAuth ?? 'iam',
        schemaVersionIds: props.schemaVersionIds,
      }),
      environmentSizeEstimates: {
        [FUNCTION_ENV.brokers]: props.bootstrapBrokersMaxLength,
        [FUNCTION_ENV.schemaVersionIds]: props.schemaVersionIdsMaxLength,
      },
      statements: [
        ...mskMappingClusterStatements(props.cluster),
        ...kafkaConsumerStatements(props.cluster, spec.sourceTopic, mapping.consumerGroupId),
        // The derived topics and the dead-letter topic, with an idempotent producer.
        ...kafkaProducerStatements(props.cluster, topicsWrittenBy(spec)),
        ...registryStatements,
      ],
      logRetention: props.logRetention,
      logKey: props.logKey,
      logRemovalPolicy: props.logRemovalPolicy,
    });

    const deployed = mappingAsDeployed(mapping, features, pollers);
    const errorHandling = deployed.errorHandling;
    this.eventSource = new ManagedKafkaEventSource({
      clusterArn: props.cluster.clusterArn,
      topic: spec.sourceTopic,
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
        deployed.filters.length > 0
          ? deployed.filters.map((f) => FilterCriteria.filter(f.pattern))
          : undefined,
      provisionedPollerConfig: deployed.provisionedPollers
        ? {
            minimumPollers: deployed.provisionedPollers.minimum,
            maximumPollers: deployed.provisionedPollers.maximum,
          }
        : undefined,
      schemaRegistryConfig: deployed.schemaRegistry
        ? new GlueSchemaRegistry({
            schemaRegistry: props.registry.registry,
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
    this.eventFunction.function.addEventSource(this.eventSource);
    if (!features.onFailureDestination) {
      const mappingResource = this.eventFunction.function.node
        .findAll()
        .find((c) => c.node.id.startsWith('KafkaEventSource:'));
      if (!mappingResource) throw new Error('the MSK event-source mapping was not found');
      acknowledge(
        mappingResource,
        'Serverless-LambdaEventSourceMappingDestination',
        'This deployment target does not implement on-failure destinations for Kafka event-source mappings ' +
          '(lib/target.ts): the handler writes every record it cannot process to <topic>.dlq itself, with the reason.',
      );
    }

    acknowledgeWildcardResource(
      this.eventFunction.role,
      registrySchemasArn,
      'The event-source mapping validates each record against the schema version its Glue header names, looking ' +
        "it up by id (glue:GetSchemaVersion), so it reads versions of this registry's schemas and no other registry's " +
        '(https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html).',
    );
  }
}
