/**
 * The application: the event contracts in the Glue Schema Registry, a consumer function with its
 * event-source mapping per consumed topic, the analytics service (its table, its consumer with a
 * mapping per source topic, and the function behind `GET /analytics/daily`), the producer API, and
 * the dashboard and alarms.
 *
 * The registry lives here, with the functions, because the functions carry the Glue schema version
 * id of each contract in their environment: a new contract version changes those ids, and a value
 * exported from another stack cannot change while this stack imports it. In one stack, registering a
 * version and handing its id to the functions is a single deployment. A target without the Glue
 * registry (lib/target.ts, `glueSchemaRegistry`) gets none, and its functions get the schema version
 * ids derived from the contract files (schemas/registry.ts), the ids `npm start` uses.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type AnalyticsSpec, type ConsumerSpec, eventTypesOf, type TopicSpec } from '../../core/topology';
import type { ContractName } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import type { DeploymentConfig } from '../config';
import { Analytics } from '../constructs/analytics';
import { BootstrapBrokers, MAX_BROKER_ADDRESS_LENGTH } from '../constructs/bootstrap-brokers';
import { ConsumerFunction } from '../constructs/consumer-function';
import { KafkaClusterRef } from '../constructs/kafka-access';
import { LogKey } from '../constructs/log-key';
import { Observability } from '../constructs/observability';
import { ProducerApi } from '../constructs/producer-api';
import { SchemaRegistry, type SchemaRegistryProps } from '../constructs/schema-registry';
import type { KafkaStack } from './kafka-stack';
import { checkedTopology, statefulRemovalPolicy, type Topology } from './shared';

export interface EventsStackProps extends StackProps {
  readonly config: DeploymentConfig;
  /** The platform this application runs on. */
  readonly platform: KafkaStack;
  /** @default core/topology.ts */
  readonly topology?: Topology;
  /** Each contract's registered definitions, oldest first. @default current definitions only */
  readonly schemaHistory?: SchemaRegistryProps['history'];
}

/** Length of a Glue schema version id (a UUID). */
const SCHEMA_VERSION_ID_LENGTH = 36;

/** The contracts a consumer reads (what its topic carries), writes (what it derives) and dead-letters. */
export function contractsOfConsumer(spec: ConsumerSpec, topics: readonly TopicSpec[]): ContractName[] {
  const source = topics.find((t) => t.name === spec.sourceTopic);
  const carried = source ? eventTypesOf(source) : [];
  const derived = Object.values(spec.flows).flatMap((ds) => (ds ?? []).map((d) => d.eventType));
  return [...new Set<ContractName>([...carried, ...derived, 'dead_letter'])].sort();
}

/** The contracts the analytics consumer reads (what its source topics carry) and dead-letters. */
function contractsOfAnalytics(spec: AnalyticsSpec, topics: readonly TopicSpec[]): ContractName[] {
  const carried = spec.sources.flatMap((s) => {
    const topic = topics.find((t) => t.name === s.topic);
    return topic ? eventTypesOf(topic) : [];
  });
  return [...new Set<ContractName>([...carried, 'dead_letter'])].sort();
}

/** The contracts the producer writes: every event type a stream accepts. */
export function contractsOfProducer(topology: Topology): ContractName[] {
  return [...new Set<ContractName>(topology.streams.flatMap((s) => s.accepts))].sort();
}

export class EventsStack extends Stack {
  /** The Glue registry of the contracts, where the target has one. */
  readonly registry: SchemaRegistry | undefined;
  readonly bootstrapBrokers: BootstrapBrokers;
  readonly consumers: ConsumerFunction[];
  readonly analytics: Analytics;
  readonly producer: ProducerApi;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: EventsStackProps) {
    const { config, platform, topology: givenTopology, schemaHistory, ...stackProps } = props;
    super(scope, id, { terminationProtection: config.terminationProtection, ...stackProps });
    const topology = checkedTopology(givenTopology);
    const removalPolicy = statefulRemovalPolicy(config);
    const logRetention = config.observability.logRetentionDays as RetentionDays;
    const { network } = platform;
    const cluster = new KafkaClusterRef(this, platform.kafka.ref.clusterArn, platform.kafka.ref.clusterName);

    const logKey = new LogKey(this, 'LogKey', {
      description: `Encrypts the log groups of ${id}`,
      removalPolicy,
    }).key;
    const { features } = config;
    this.registry = features.glueSchemaRegistry
      ? new SchemaRegistry(this, 'SchemaRegistry', {
          registryName: config.registryName,
          removalPolicy,
          history: schemaHistory,
        })
      : undefined;
    this.bootstrapBrokers = new BootstrapBrokers(this, 'BootstrapBrokers', {
      cluster,
      clientAuthentication: features.kafkaClientAuth,
      logRetention,
      logRemovalPolicy: removalPolicy,
      logKey,
      hostForFunctions: features.brokerHostForFunctions,
      brokersAnswered: features.brokersRun,
    });
    const brokersMaxLength = platform.kafka.brokerCount * (MAX_BROKER_ADDRESS_LENGTH + 1);

    /** `SCHEMA_VERSION_IDS` for these contracts, and an upper bound of its length. */
    const { registry } = this;
    const schemaVersionIds = (names: readonly ContractName[]) => ({
      json: registry
        ? this.toJsonString(Object.fromEntries(names.map((n) => [n, registry.currentVersionId(n)])))
        : JSON.stringify(Object.fromEntries(names.map((n) => [n, localSchemaVersionId(n)]))),
      maxLength: JSON.stringify(
        Object.fromEntries(names.map((n) => [n, 'x'.repeat(SCHEMA_VERSION_ID_LENGTH)])),
      ).length,
    });

    /** What every Kafka-fed function gets but its spec, its security group and its schema ids. */
    const kafkaConsumer = {
      stage: config.stage,
      cluster,
      bootstrapBrokers: this.bootstrapBrokers.brokers,
      bootstrapBrokersMaxLength: brokersMaxLength,
      kafkaAuth: features.kafkaClientAuth,
      mappingFeatures: features.kafkaMapping,
      registry: this.registry,
      vpc: network.vpc,
      subnets: network.privateSubnets,
      clusterSecurityGroups: [network.brokerSecurityGroup, network.mappingSecurityGroup],
      pollers: config.consumers.pollers,
      logLevel: config.observability.logLevel,
      metricsNamespace: config.observability.metricsNamespace,
      tracer: config.observability.tracer,
      architecture: config.functionArchitecture,
      logRetention,
      logKey,
      logRemovalPolicy: removalPolicy,
    };

    this.consumers = topology.consumers.map((spec) => {
      const ids = schemaVersionIds(contractsOfConsumer(spec, topology.topics));
      return new ConsumerFunction(this, `Consumer-${spec.name}`, {
        ...kafkaConsumer,
        spec,
        schemaVersionIds: ids.json,
        schemaVersionIdsMaxLength: ids.maxLength,
        securityGroup: network.consumerSecurityGroup,
      });
    });

    const analyticsIds = schemaVersionIds(contractsOfAnalytics(topology.analytics, topology.topics));
    this.analytics = new Analytics(this, 'Analytics', {
      ...kafkaConsumer,
      spec: topology.analytics,
      schemaVersionIds: analyticsIds.json,
      schemaVersionIdsMaxLength: analyticsIds.maxLength,
      consumerSecurityGroup: network.consumerSecurityGroup,
      removalPolicy,
      deletionProtection: config.tableDeletionProtection,
    });

    const producerIds = schemaVersionIds(contractsOfProducer(topology));
    this.producer = new ProducerApi(this, 'Producer', {
      stage: config.stage,
      streams: topology.streams,
      cluster,
      bootstrapBrokers: this.bootstrapBrokers.brokers,
      bootstrapBrokersMaxLength: brokersMaxLength,
      kafkaAuth: features.kafkaClientAuth,
      schemaVersionIds: producerIds.json,
      schemaVersionIdsMaxLength: producerIds.maxLength,
      vpc: network.vpc,
      subnets: network.privateSubnets,
      securityGroup: network.producerSecurityGroup,
      auth: config.api.auth,
      cognitoUserPoolArn: config.api.cognitoUserPoolArn,
      throttleRateLimit: config.api.throttleRateLimit,
      throttleBurstLimit: config.api.throttleBurstLimit,
      quotaPerDay: config.api.quotaPerDay,
      manageCloudWatchRole: config.api.manageCloudWatchRole,
      reservedConcurrency: config.api.producerReservedConcurrency,
      analyticsFunction: this.analytics.api.function,
      logLevel: config.observability.logLevel,
      metricsNamespace: config.observability.metricsNamespace,
      tracer: config.observability.tracer,
      architecture: config.functionArchitecture,
      logRetention,
      logKey,
      logRemovalPolicy: removalPolicy,
    });

    this.observability = new Observability(this, 'Observability', {
      stage: config.stage,
      api: this.producer.api,
      producer: this.producer.eventFunction.function,
      consumers: [
        ...this.consumers.map((c) => ({
          name: c.spec.name,
          sourceTopic: c.spec.sourceTopic,
          function: c.eventFunction.function,
          eventSourceMappingId: c.mappingMetrics ? c.eventSource.eventSourceMappingId : undefined,
        })),
        // One function, one mapping per source topic: alarms per mapping, named after its topic.
        ...this.analytics.eventSources.map((m) => ({
          name: `${this.analytics.spec.name}-${m.topic}`,
          service: this.analytics.spec.name,
          sourceTopic: m.topic,
          function: this.analytics.consumer.function,
          eventSourceMappingId: this.analytics.mappingMetrics
            ? m.eventSource.eventSourceMappingId
            : undefined,
        })),
      ],
      functions: [{ name: `${this.analytics.spec.name}-api`, function: this.analytics.api.function }],
      metricsNamespace: config.observability.metricsNamespace,
      offsetLagThreshold: config.observability.offsetLagThreshold,
      apiErrorRatePercent: config.observability.apiErrorRatePercent,
      alarmEmail: config.observability.alarmEmail,
      alarmTopicArn: config.observability.alarmTopicArn,
      dashboard: features.dashboard,
    });
  }
}
