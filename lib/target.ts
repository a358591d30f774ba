/**
 * Where the app is deployed, and what that place implements: the one module that knows the
 * deployment targets. `-c target=aws` (the default) is Amazon Web Services; `-c target=localstack`
 * is the LocalStack emulator, deployed with `cdklocal` (docs/localstack.md).
 *
 * The stacks read {@link TargetFeatures}, never the target's name: each feature is a capability a
 * construct either uses or does without, and every `false` below is something LocalStack lacks, with
 * the source that says so. docs/localstack.md ("What differs from AWS") lists each difference, and test/unit/cdk-localstack.test.ts
 * checks that the two targets' templates differ in exactly these ways. Nothing in lambdas/ knows the
 * target: the functions read the brokers, the Kafka auth mode and the schema version ids from their
 * environment, and AWS endpoints from the AWS SDK's standard settings (`AWS_ENDPOINT_URL`, which
 * LocalStack sets in the functions it runs).
 *
 * Sources for LocalStack (retrieved for this change; LocalStack's coverage moves, re-check them when
 * a LocalStack release adds support):
 * - [CFN] CloudFormation resource coverage, localstack/localstack-docs `src/data/cloudformation/coverage.json`
 *   (generated 2026-05-25; the data of LocalStack's CloudFormation coverage page):
 *   lists AWS::MSK::Cluster, AWS::Glue::Registry/Schema/SchemaVersion, AWS::Lambda::EventSourceMapping,
 *   AWS::ApiGateway::*, AWS::CloudWatch::Alarm, AWS::KMS::Key, AWS::Logs::LogGroup, AWS::EC2::VPC, Subnet,
 *   SecurityGroup(Ingress|Egress) and VPCEndpoint; it does not list AWS::MSK::Topic, AWS::MSK::Configuration,
 *   AWS::EC2::FlowLog or AWS::CloudWatch::Dashboard. LocalStack "deploys" an unsupported type as an
 *   empty fallback by default and warns that this "will fail in upcoming LocalStack releases"
 *   (localstack/localstack, `CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES`), so such resources are left out
 *   rather than relied upon.
 * - [ESM] Lambda event-source mapping behaviour coverage, https://docs.localstack.cloud/aws/services/lambda/
 *   ("Behaviour Coverage", column Kafka / Amazon MSK): BatchSize, MaximumBatchingWindowInSeconds,
 *   FilterCriteria, StartingPosition(+Timestamp), Topics implemented; FunctionResponseTypes,
 *   DestinationConfig.OnFailure, MetricsConfig and ProvisionedPollerConfig not implemented;
 *   MaximumRetryAttempts, MaximumRecordAgeInSeconds and BisectBatchOnFunctionError not available for
 *   Kafka; SchemaRegistryConfig and LoggingConfig not listed.
 * - [MSK] https://docs.localstack.cloud/aws/services/msk/ (localstack/localstack-docs
 *   `src/content/docs/aws/services/msk.mdx`): LocalStack starts a Kafka broker per cluster and returns
 *   its address as `BootstrapBrokerString` (GetBootstrapBrokers), e.g. `"localhost:4511"`; it has no IAM
 *   (SASL) listener. Its examples create the cluster with `--kafka-version "2.8.0"`, answer one broker
 *   address whatever `--number-of-broker-nodes` says, and create topics with `--replication-factor 1`;
 *   localstack/localstack issues #10066 and #12056 report that LocalStack runs Kafka 2.8.0 whatever
 *   `--kafka-version` asks for.
 * - [DNS] https://docs.localstack.cloud/aws/tooling/dns-server/: LocalStack's DNS server "resolves
 *   localhost.localstack.cloud to the LocalStack container", and "this configuration happens
 *   automatically for containers created by LocalStack, including compute resources such as Lambda";
 *   https://docs.localstack.cloud/aws/capabilities/networking/accessing-endpoint-url ("From a container
 *   LocalStack created"). In a function's container `localhost` is the container itself
 *   (localstack/localstack#4544, "ECONNREFUSED when connecting to MSK cluster from Lambda").
 * - [GLUE] https://docs.localstack.cloud/aws/services/glue/ ("Schema Registry"): "Currently, LocalStack
 *   supports the AVRO dataformat for the Glue Schema Registry"; the contracts are JSON Schema.
 */

import { ALL_MAPPING_FEATURES, type KafkaMappingFeatures } from '../core/mapping';

export type { KafkaMappingFeatures } from '../core/mapping';
export { mappingAsDeployed } from '../core/mapping';

/** Deployment targets, from `-c target=...`. */
export type Target = 'aws' | 'localstack';
export const TARGETS: readonly Target[] = ['aws', 'localstack'];

/** How Kafka clients authenticate to the brokers. */
export type KafkaClientAuth = 'iam' | 'plaintext';

/** What a target implements, where the template depends on it. */
export interface TargetFeatures {
  /**
   * Client authentication of the cluster: `iam` (SASL/IAM over TLS, `BootstrapBrokerStringSaslIam`)
   * or `plaintext` (unauthenticated, no TLS, `BootstrapBrokerString`). Also the functions' `KAFKA_AUTH`.
   */
  readonly kafkaClientAuth: KafkaClientAuth;
  /** Topics as AWS::MSK::Topic; otherwise a custom resource creates them with a Kafka admin client. */
  readonly mskTopicResource: boolean;
  /** The broker configuration as AWS::MSK::Configuration; otherwise the brokers keep their defaults. */
  readonly mskConfiguration: boolean;
  /** The VPC flow log of rejected traffic (AWS::EC2::FlowLog). */
  readonly vpcFlowLog: boolean;
  /** The CloudWatch dashboard (AWS::CloudWatch::Dashboard); the alarms are kept either way. */
  readonly dashboard: boolean;
  /**
   * The Glue Schema Registry with the contracts as JSON Schema (AWS::Glue::Registry/Schema), whose
   * schema version ids the functions get. Without it no registry is created and the functions get the
   * ids derived from the contract files (schemas/registry.ts), as `npm start` uses without an endpoint.
   */
  readonly glueSchemaRegistry: boolean;
  /**
   * The host name under which the functions reach the brokers, in place of the host of every broker
   * GetBootstrapBrokers answers (ports kept); undefined: the brokers as answered.
   */
  readonly brokerHostForFunctions: string | undefined;
  /** Brokers the target runs whatever the cluster asks for (topic replication must fit); undefined: as asked. */
  readonly brokersRun: number | undefined;
  /**
   * Stateful resources are disposable by default: `destroyOnRemoval` defaults to true and table
   * deletion protection and stack termination protection to false, whatever the profile.
   */
  readonly disposable: boolean;
  readonly kafkaMapping: KafkaMappingFeatures;
}

export const TARGET_FEATURES: Readonly<Record<Target, TargetFeatures>> = {
  aws: {
    kafkaClientAuth: 'iam',
    mskTopicResource: true,
    mskConfiguration: true,
    vpcFlowLog: true,
    dashboard: true,
    glueSchemaRegistry: true,
    brokerHostForFunctions: undefined,
    brokersRun: undefined,
    disposable: false,
    kafkaMapping: ALL_MAPPING_FEATURES,
  },
  localstack: {
    // [MSK] LocalStack's broker has no IAM (SASL) listener.
    kafkaClientAuth: 'plaintext',
    // [CFN] AWS::MSK::Topic, AWS::MSK::Configuration, AWS::EC2::FlowLog, AWS::CloudWatch::Dashboard
    // are not in LocalStack's CloudFormation coverage.
    mskTopicResource: false,
    mskConfiguration: false,
    vpcFlowLog: false,
    dashboard: false,
    // [GLUE] Its schema registry supports AVRO only; `-c localstackGlue=true` turns it on for a
    // LocalStack that takes JSON Schema (lib/config.ts).
    glueSchemaRegistry: false,
    // [MSK] [DNS] GetBootstrapBrokers answers `localhost:<port>`, which inside a function's container
    // is the container itself; `localhost.localstack.cloud` is LocalStack from every container it starts.
    brokerHostForFunctions: 'localhost.localstack.cloud',
    // [MSK] One Kafka 2.8.0 broker, whatever the cluster asks for.
    brokersRun: 1,
    // A local emulator's state is for one run: a retained, named log group or registry left behind by
    // a failed first deployment would make the next one fail with "already exists".
    disposable: true,
    // [ESM] What LocalStack's Kafka event-source mappings do not implement. Dead letters then come
    // from the handlers only (poison records); see docs/localstack.md ("What differs from AWS") for what that changes.
    kafkaMapping: {
      provisionedPollers: false,
      errorHandling: false,
      partialBatchResponse: false,
      onFailureDestination: false,
      schemaRegistry: false,
      systemLogs: false,
      metrics: false,
    },
  },
};

/** The instruction set the functions are built and deployed for (AWS::Lambda::Function Architectures). */
export type FunctionArchitecture = 'arm64' | 'x86_64';

/**
 * The functions' architecture on a target. On AWS, arm64 (Graviton). On LocalStack, the host's:
 * LocalStack runs each function in a container of the function's architecture and, without an
 * emulator on the host, a function of the other architecture does not start unless LocalStack runs
 * with `LAMBDA_IGNORE_ARCHITECTURE=1` (https://docs.localstack.cloud/aws/services/lambda/, "Architectures";
 * https://docs.localstack.cloud/aws/capabilities/config/configuration/, LAMBDA_IGNORE_ARCHITECTURE).
 * The bundles are plain JavaScript, so building for the host costs nothing and needs no setting.
 * `override` is the `-c lambdaArchitecture=...` context value, for a Docker host whose architecture
 * is not the machine running `cdk`.
 * @public
 */
export function functionArchitecture(
  target: Target,
  hostArch: string = process.arch,
  override?: FunctionArchitecture,
): FunctionArchitecture {
  if (override) return override;
  if (target === 'aws') return 'arm64';
  return hostArch === 'arm64' ? 'arm64' : 'x86_64';
}
