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

import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ManagedKafkaEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_ENV, kafkaEnvironment } from '../../core/env';
import { type ConsumerSpec, topicsWrittenBy } from '../../core/topology';
import type { LogLevel } from '../config';
import {
  type FunctionArchitecture,
  type KafkaClientAuth,
  type KafkaMappingFeatures,
  TARGET_FEATURES,
} from '../target';
import { EventFunction } from './event-function';
import {
  type KafkaClusterRef,
  kafkaConsumerStatements,
  kafkaProducerStatements,
  mskMappingClusterStatements,
} from './kafka-access';
import { acknowledgeRegistrySchemas, addKafkaMapping, registryReadStatements } from './kafka-mapping';
import type { SchemaRegistry } from './schema-registry';

/** What every function fed by MSK event-source mappings is built with (ConsumerFunction, Analytics). */
export interface KafkaConsumerProps {
  /** Stage prefix of the function names. */
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
  /** The Glue registry of the contracts; a target without Glue has none. */
  readonly registry: SchemaRegistry | undefined;
  /**
   * `SCHEMA_VERSION_IDS`: JSON of contract name to schema version id (Glue's, a deploy-time value, or
   * the contract files' without a registry).
   */
  readonly schemaVersionIds: string;
  /** Upper bound of the length of {@link schemaVersionIds}. */
  readonly schemaVersionIdsMaxLength: number;
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** The cluster's security groups, which Lambda gives the mappings' pollers. */
  readonly clusterSecurityGroups: readonly ISecurityGroup[];
  /** Provisioned pollers of every mapping. @default each mapping's own */
  readonly pollers?: { readonly minimum: number; readonly maximum: number };
  readonly logLevel: LogLevel;
  readonly metricsNamespace: string;
  /** Powertools Tracer in the function (see ObservabilityConfig.tracer). @default false */
  readonly tracer?: boolean;
  readonly logRetention: RetentionDays;
  /** Encrypts the log groups (lib/constructs/log-key.ts). @default CloudWatch Logs' own encryption */
  readonly logKey?: IKey;
  readonly logRemovalPolicy?: RemovalPolicy;
  /** The instruction set (lib/target.ts `functionArchitecture`). @default 'arm64' */
  readonly architecture?: FunctionArchitecture;
}

export interface ConsumerFunctionProps extends KafkaConsumerProps {
  /** The consumer, from core/topology.ts. */
  readonly spec: ConsumerSpec;
  readonly securityGroup: ISecurityGroup;
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
    const features = props.mappingFeatures ?? TARGET_FEATURES.aws.kafkaMapping;
    this.spec = spec;
    this.mappingMetrics = features.metrics;

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
      architecture: props.architecture,
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
        ...kafkaConsumerStatements(props.cluster, [
          { topic: spec.sourceTopic, groupId: mapping.consumerGroupId },
        ]),
        // The derived topics and the dead-letter topic, with an idempotent producer.
        ...kafkaProducerStatements(props.cluster, topicsWrittenBy(spec)),
        ...registryReadStatements(this, props.registry),
      ],
      logRetention: props.logRetention,
      logKey: props.logKey,
      logRemovalPolicy: props.logRemovalPolicy,
    });

    this.eventSource = addKafkaMapping(this.eventFunction, {
      cluster: props.cluster,
      topic: spec.sourceTopic,
      mapping,
      features,
      pollers: props.pollers,
      registry: props.registry,
    });
    acknowledgeRegistrySchemas(this.eventFunction.role, props.registry);
  }
}
