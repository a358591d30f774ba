/**
 * Deployment configuration: read once in bin/app.ts from CDK context (`-c key=value` or cdk.json)
 * and the environment, validated, and passed to the stacks as a typed object. Nothing else reads
 * context or environment variables.
 *
 * Every key, its default per profile and what it changes is listed in docs/deploy.md ("Configuration");
 * {@link CONTEXT_KEYS} is that list in code, and a test keeps the two in step.
 */

import { DEFAULT_METRICS_NAMESPACE } from '../core/metrics';
import {
  type FunctionArchitecture,
  functionArchitecture,
  TARGET_FEATURES,
  TARGETS,
  type Target,
  type TargetFeatures,
} from './target';

/** Sizing and safety defaults: `dev` is small and cheap, `prod` is sized and guarded for production. */
export type Profile = 'dev' | 'prod';

/** Stage names that imply their profile; any other stage name must say which profile it uses. */
const KNOWN_STAGES: Readonly<Record<string, Profile>> = { dev: 'dev', prod: 'prod' };

export type BrokerType = 'standard' | 'express';
export type ApiAuth = 'iam' | 'apiKey' | 'cognito';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
/** MSK enhanced monitoring levels (https://docs.aws.amazon.com/msk/latest/developerguide/metrics-details.html). */
export type EnhancedMonitoring =
  | 'DEFAULT'
  | 'PER_BROKER'
  | 'PER_TOPIC_PER_BROKER'
  | 'PER_TOPIC_PER_PARTITION';

export interface NetworkConfig {
  /** IPv4 range of the VPC. @default '10.40.0.0/16' */
  readonly vpcCidr: string;
  /**
   * The three Availability Zones by zone ID, e.g. `use1-az1,use1-az2,use1-az4`: the subnets are
   * placed with `AvailabilityZoneId`, which names the same zone in every account (zone *names* map to
   * different zones per account). Needed in us-east-1, where MSK refuses client subnets in `use1-az3`.
   * @default none: {@link availabilityZones}, or the region's first three
   */
  readonly availabilityZoneIds: readonly string[] | undefined;
  /**
   * The three Availability Zones by name, e.g. `eu-west-1a,eu-west-1b,eu-west-1c` (not in us-east-1).
   * @default the region's first three (`Fn::GetAZs`), resolved at deploy time: no lookup at synth
   */
  readonly availabilityZones: readonly string[] | undefined;
  /**
   * The zones are neither pinned nor is the region known at synth: the platform template then carries
   * a CloudFormation rule that refuses us-east-1 before anything is created (see KafkaStack).
   */
  readonly refuseUsEast1: boolean;
  /** NAT gateways; 0 keeps the subnets isolated from the internet. @default 0 */
  readonly natGateways: number;
  /**
   * Interface endpoints for Lambda and STS. Only event-source mappings in on-demand mode need them;
   * every mapping here uses provisioned mode (lib/constructs/network.ts). @default false
   */
  readonly interfaceEndpoints: boolean;
}

export interface KafkaConfig {
  /** Apache Kafka version of the cluster; at least 3.6 (AWS::MSK::Topic needs it). @default '3.8.x' */
  readonly version: string;
  /** Standard or Express brokers (https://docs.aws.amazon.com/msk/latest/developerguide/msk-broker-types.html). */
  readonly brokerType: BrokerType;
  /** Broker instance type, e.g. `kafka.m7g.large` or `express.m7g.large`. */
  readonly instanceType: string;
  /** Brokers in each of the three Availability Zones. @default 1 */
  readonly brokersPerAz: number;
  /** EBS storage per Standard broker, GiB (Express brokers have no EBS volume). */
  readonly volumeSizeGiB: number;
  readonly enhancedMonitoring: EnhancedMonitoring;
}

export interface ConsumersConfig {
  /**
   * Provisioned pollers of every event-source mapping.
   * @default the topology's (core/topology.ts) in prod; 1–1 in dev
   */
  readonly pollers: { readonly minimum: number; readonly maximum: number } | undefined;
  // No switch for the mappings' metrics (MetricsConfig): every stage has them, the alarms read them
  // (lib/constructs/observability.ts).
}

export interface ApiConfig {
  /** How callers authenticate: SigV4 (`iam`), an API key with a usage plan, or a Cognito user pool. */
  readonly auth: ApiAuth;
  /** User pool whose tokens the `cognito` authorizer accepts. */
  readonly cognitoUserPoolArn: string | undefined;
  /** Steady-state requests per second of the stage (API Gateway throttling). */
  readonly throttleRateLimit: number;
  /** Burst of requests the stage absorbs above the rate. */
  readonly throttleBurstLimit: number;
  /** Requests per day per API key (`apiKey` auth only). */
  readonly quotaPerDay: number;
  /**
   * Reserved concurrency of the producer function: at most this many instances, each holding its own
   * IAM-authenticated connections to the brokers. The stage throttle bounds requests per second, not
   * concurrent executions, and MSK caps IAM connections per broker (see lib/constructs/producer-api.ts).
   */
  readonly producerReservedConcurrency: number;
  /**
   * Whether this app sets the account's API Gateway CloudWatch Logs role, which API Gateway needs to
   * write execution and access logs. Turn it off when the account already has one.
   * @default true
   */
  readonly manageCloudWatchRole: boolean;
}

export interface ObservabilityConfig {
  /** Log level of the functions (Powertools). */
  readonly logLevel: LogLevel;
  /** CloudWatch namespace of the functions' metrics. @default 'MskServerlessEvents' */
  readonly metricsNamespace: string;
  /**
   * Powertools Tracer (the X-Ray SDK) in the functions, adding a handler subsegment and cold-start
   * annotations to the traces Lambda's active tracing records anyway. It costs about 55 ms of cold
   * start (BENCHMARKS.md), and the functions make no AWS SDK or HTTP calls for it to trace.
   * @default false
   */
  readonly tracer: boolean;
  /** Retention of every log group, days (a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
  /** E-mail address subscribed to a new alarm topic. @default none */
  readonly alarmEmail: string | undefined;
  /** Existing SNS topic for alarm actions (instead of a new one). @default none */
  readonly alarmTopicArn: string | undefined;
  /** Records a mapping may lag behind before its alarm fires. */
  readonly offsetLagThreshold: number;
  /** API 5xx responses, % of requests over 5 minutes, above which the API alarm fires. @default 1 */
  readonly apiErrorRatePercent: number;
}

/** Settings of one deployment. */
export interface DeploymentConfig {
  /** Where it is deployed: AWS, or the LocalStack emulator (`-c target=localstack`). @default 'aws' */
  readonly target: Target;
  /**
   * What the target implements (lib/target.ts); the stacks read this, never the target's name.
   * `-c localstackGlue=true` turns `glueSchemaRegistry` on for LocalStack.
   */
  readonly features: TargetFeatures;
  /**
   * The functions' instruction set: arm64 on AWS, the host's on LocalStack (`functionArchitecture`,
   * lib/target.ts), or `-c lambdaArchitecture=arm64|x86_64`.
   */
  readonly functionArchitecture: FunctionArchitecture;
  /** Name prefix of every stack and resource, e.g. `dev`. */
  readonly stage: string;
  /** Which defaults apply. */
  readonly profile: Profile;
  /** AWS account and region; undefined means environment-agnostic synthesis (no credentials needed). */
  readonly env: { readonly account?: string; readonly region?: string };
  /** Glue Schema Registry name. @default `<stage>-events` */
  readonly registryName: string;
  /**
   * Whether stateful resources (the schema registry and its schemas, the topics, the KMS keys and the
   * log groups) are deleted with the stack. Log groups and keys have no fixed names, so retained ones
   * never block the next deployment; the registry does (its name is fixed), hence dev deletes it.
   * @default true in dev (destroy, then deploy again, just works), false in prod (retained)
   */
  readonly destroyOnRemoval: boolean;
  /** CloudFormation termination protection of every stack. @default true in prod, false in dev */
  readonly terminationProtection: boolean;
  /**
   * DynamoDB deletion protection of the analytics table: DeleteTable is refused, by CloudFormation too,
   * until it is turned off. @default true in prod, false in dev
   */
  readonly tableDeletionProtection: boolean;
  readonly network: NetworkConfig;
  readonly kafka: KafkaConfig;
  readonly consumers: ConsumersConfig;
  readonly api: ApiConfig;
  readonly observability: ObservabilityConfig;
}

/** Bad configuration; lists every problem with the context key it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid deployment configuration:\n- ${problems.join('\n- ')}`);
  }
}

/** Reads a context value; CDK context values from the command line are strings. */
export type ContextReader = (key: string) => unknown;

/** Every context key the app reads, with what it sets. docs/deploy.md ("Configuration") documents each one. */
export const CONTEXT_KEYS = [
  'target',
  'lambdaArchitecture',
  'localstackGlue',
  'stage',
  'profile',
  'registryName',
  'destroyOnRemoval',
  'terminationProtection',
  'tableDeletionProtection',
  'vpcCidr',
  'availabilityZoneIds',
  'availabilityZones',
  'natGateways',
  'interfaceEndpoints',
  'kafkaVersion',
  'brokerType',
  'brokerInstanceType',
  'brokersPerAz',
  'brokerVolumeGiB',
  'enhancedMonitoring',
  'minPollers',
  'maxPollers',
  'apiAuth',
  'cognitoUserPoolArn',
  'apiThrottleRate',
  'apiThrottleBurst',
  'apiQuotaPerDay',
  'apiCloudWatchRole',
  'producerReservedConcurrency',
  'logLevel',
  'metricsNamespace',
  'tracer',
  'logRetentionDays',
  'alarmEmail',
  'alarmTopicArn',
  'offsetLagThreshold',
  'apiErrorRatePercent',
] as const;

/** The defaults each profile gives the keys that differ between profiles. */
export const PROFILE_DEFAULTS: Readonly<
  Record<
    Profile,
    {
      readonly terminationProtection: boolean;
      readonly destroyOnRemoval: boolean;
      readonly tableDeletionProtection: boolean;
      readonly standardInstanceType: string;
      readonly expressInstanceType: string;
      readonly volumeSizeGiB: number;
      readonly enhancedMonitoring: EnhancedMonitoring;
      /** undefined: the topology's pollers. */
      readonly pollers: { readonly minimum: number; readonly maximum: number } | undefined;
      readonly throttleRateLimit: number;
      readonly throttleBurstLimit: number;
      readonly quotaPerDay: number;
      readonly producerReservedConcurrency: number;
      readonly logLevel: LogLevel;
      readonly logRetentionDays: number;
      readonly offsetLagThreshold: number;
    }
  >
> = {
  dev: {
    terminationProtection: false,
    destroyOnRemoval: true,
    tableDeletionProtection: false,
    // The smallest broker; IAM auth limits it to a few new connections per second per broker
    // (https://docs.aws.amazon.com/msk/latest/developerguide/limits.html), enough for a dev load.
    standardInstanceType: 'kafka.t3.small',
    expressInstanceType: 'express.m7g.large',
    volumeSizeGiB: 10,
    enhancedMonitoring: 'DEFAULT',
    pollers: { minimum: 1, maximum: 1 },
    throttleRateLimit: 10,
    throttleBurstLimit: 20,
    quotaPerDay: 10_000,
    // A handful of instances: 10 × (one connection per broker) stays far below the broker limits.
    producerReservedConcurrency: 10,
    logLevel: 'DEBUG',
    logRetentionDays: 7,
    offsetLagThreshold: 1_000,
  },
  prod: {
    terminationProtection: true,
    destroyOnRemoval: false,
    tableDeletionProtection: true,
    standardInstanceType: 'kafka.m7g.large',
    expressInstanceType: 'express.m7g.large',
    volumeSizeGiB: 100,
    enhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
    pollers: undefined,
    throttleRateLimit: 500,
    throttleBurstLimit: 1_000,
    quotaPerDay: 1_000_000,
    producerReservedConcurrency: 100,
    logLevel: 'INFO',
    logRetentionDays: 90,
    offsetLagThreshold: 10_000,
  },
};

const STAGE = /^[a-z][a-z0-9-]{1,20}$/;
const REGISTRY = /^[a-zA-Z0-9-_$#.]{1,255}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const AZ = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
/** An Availability Zone ID, e.g. `use1-az1` (https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html). */
const AZ_ID = /^[a-z]{2,6}\d-az\d+$/;
/**
 * The zone MSK refuses, by region: "Client subnets can't occupy the Availability Zone with ID use1-az3"
 * (AWS::MSK::Cluster BrokerNodeGroupInfo, ClientSubnets,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-msk-cluster-brokernodegroupinfo.html;
 * the MSK API's BrokerNodeGroupInfo.ClientSubnets documentation says the same, as the AWS SDKs generated
 * from it show). Older revisions named the zone `us-east-1e`; the zone ID is what holds in every account.
 */
export const MSK_UNSUPPORTED_ZONE_IDS: Readonly<Record<string, string>> = { 'us-east-1': 'use1-az3' };
const KAFKA_VERSION = /^(\d+)\.(\d+)\.(\d+|x)(\.kraft)?$/;
const INSTANCE_TYPE: Record<BrokerType, RegExp> = {
  standard: /^kafka\.[a-z0-9]+\.[a-z0-9]+$/,
  express: /^express\.[a-z0-9]+\.[a-z0-9]+$/,
};
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ARN = (service: string, resource: string) =>
  new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${resource}$`);
/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/**
 * A CloudWatch namespace (alphanumerics, `.`, `-`, `_`, `/`, `#`, not starting with `AWS/`,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Namespace);
 * no quotes, since the dashboard's search expressions quote it.
 */
const NAMESPACE = /^(?!AWS\/)[A-Za-z0-9._/#-]{1,255}$/;

/** Typed readers that collect problems instead of throwing at the first. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly context: ContextReader) {}

  raw(key: string): unknown {
    const value = this.context(key);
    return value === '' ? undefined : value;
  }

  string(key: string, fallback: string, pattern?: RegExp, what = 'is not valid'): string {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const text = String(value);
    if (pattern && !pattern.test(text)) this.problems.push(`${key} "${text}" ${what}`);
    return text;
  }

  optionalString(key: string, pattern: RegExp, what: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const text = String(value);
    if (!pattern.test(text)) this.problems.push(`${key} "${text}" ${what}`);
    return text;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.problems.push(`${key} must be true or false, not ${JSON.stringify(value)}`);
    return fallback;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${key} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isFinite(n) || n < min || n > max) {
      this.problems.push(`${key} must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const text = String(value);
    if (!(allowed as readonly string[]).includes(text)) {
      this.problems.push(`${key} must be one of ${allowed.join(', ')}, not "${text}"`);
      return fallback;
    }
    return text as T;
  }

  list(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.map(String);
    return String(value)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
}

/**
 * What is wrong with the zone settings. MSK cannot place brokers in some zones (us-east-1's `use1-az3`),
 * and a zone *name* maps to a different zone ID in each account
 * (https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html): in such a region only
 * zone IDs are safe, or CreateCluster fails half an hour into a deployment. LocalStack's emulated
 * MSK has no zones to refuse.
 */
function zoneProblems(
  target: Target,
  region: string | undefined,
  ids: readonly string[] | undefined,
  names: readonly string[] | undefined,
): string[] {
  const problems: string[] = [];
  if (ids && names)
    problems.push(
      'give availabilityZoneIds or availabilityZones, not both (zone IDs are the reliable choice)',
    );
  for (const [key, list, pattern, what] of [
    ['availabilityZoneIds', ids, AZ_ID, 'an Availability Zone ID (e.g. use1-az1)'],
    ['availabilityZones', names, AZ, 'an Availability Zone name'],
  ] as const) {
    if (!list) continue;
    if (list.length !== 3 || new Set(list).size !== 3)
      problems.push(`${key} must name three different zones, not "${list.join(',')}"`);
    for (const zone of list) if (!pattern.test(zone)) problems.push(`${key}: "${zone}" is not ${what}`);
  }
  if (target !== 'aws') return problems;
  const refused = Object.values(MSK_UNSUPPORTED_ZONE_IDS);
  for (const id of ids ?? [])
    if (refused.includes(id))
      problems.push(
        `availabilityZoneIds: Amazon MSK cannot place brokers in ${id} ("Client subnets can't occupy the ` +
          `Availability Zone with ID ${id}"): choose three other zones, e.g. use1-az1,use1-az2,use1-az4`,
      );
  for (const [zoneRegion, id] of Object.entries(MSK_UNSUPPORTED_ZONE_IDS)) {
    const hint = `set availabilityZoneIds to three zone IDs other than ${id}, e.g. use1-az1,use1-az2,use1-az4 (aws ec2 describe-availability-zones lists them)`;
    if (names?.some((n) => n.startsWith(zoneRegion)))
      problems.push(
        `availabilityZones: in ${zoneRegion} a zone name may be ${id} in your account, where Amazon MSK cannot place brokers: ${hint}`,
      );
    else if (region === zoneRegion && !ids && !names)
      problems.push(
        `region ${zoneRegion} needs pinned zones: its first three zones may include ${id}, where Amazon MSK cannot place brokers: ${hint}`,
      );
  }
  return problems;
}

function validCidr(cidr: string): boolean {
  const m = CIDR.exec(cidr);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  // A /16–/24 leaves room for three private subnets (and three public ones with NAT).
  return octets.every((o) => o <= 255) && prefix >= 16 && prefix <= 24;
}

/** `3.8.x` ≥ 3.6? AWS::MSK::Topic needs Apache Kafka 3.6 or later on a provisioned cluster. */
function kafkaVersionAtLeast36(version: string): boolean {
  const m = KAFKA_VERSION.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 3 || (major === 3 && minor >= 6);
}

/**
 * Builds the configuration from CDK context and the environment CDK sets (`CDK_DEFAULT_ACCOUNT`,
 * `CDK_DEFAULT_REGION`), or throws a {@link ConfigError} naming each bad key.
 */
export function loadConfig(
  context: ContextReader,
  environment: NodeJS.ProcessEnv = process.env,
): DeploymentConfig {
  const read = new Reader(context);
  const problems = read.problems;

  const target = read.oneOf<Target>('target', 'aws', TARGETS);
  const architectureOverride =
    read.raw('lambdaArchitecture') === undefined
      ? undefined
      : read.oneOf<FunctionArchitecture>('lambdaArchitecture', 'arm64', ['arm64', 'x86_64']);
  const localstackGlue = read.boolean('localstackGlue', false);
  if (localstackGlue && target !== 'localstack')
    problems.push(`localstackGlue is only used with target=localstack, not target=${target}`);
  const features: TargetFeatures = localstackGlue
    ? { ...TARGET_FEATURES[target], glueSchemaRegistry: true }
    : TARGET_FEATURES[target];

  const stage = String(read.raw('stage') ?? 'dev');
  if (!STAGE.test(stage))
    problems.push(
      `stage "${stage}" must be 2–21 lowercase letters, digits or dashes, starting with a letter`,
    );
  const knownProfile = KNOWN_STAGES[stage];
  const givenProfile = read.raw('profile');
  let profile: Profile = knownProfile ?? 'dev';
  if (givenProfile !== undefined) {
    profile = read.oneOf<Profile>('profile', profile, ['dev', 'prod']);
  } else if (!knownProfile) {
    problems.push(
      `unknown stage "${stage}": use dev or prod, or name the defaults a custom stage takes with -c profile=dev|prod`,
    );
  }
  // A disposable target (LocalStack) destroys and unprotects by default whatever the profile.
  const defaults = features.disposable
    ? {
        ...PROFILE_DEFAULTS[profile],
        destroyOnRemoval: true,
        terminationProtection: false,
        tableDeletionProtection: false,
      }
    : PROFILE_DEFAULTS[profile];

  const registryName = read.string(
    'registryName',
    `${stage}-events`,
    REGISTRY,
    'is not a valid Glue registry name',
  );
  const destroyOnRemoval = read.boolean('destroyOnRemoval', defaults.destroyOnRemoval);
  const terminationProtection = read.boolean('terminationProtection', defaults.terminationProtection);
  const tableDeletionProtection = read.boolean('tableDeletionProtection', defaults.tableDeletionProtection);

  // Network
  const vpcCidr = read.string('vpcCidr', '10.40.0.0/16');
  if (!validCidr(vpcCidr)) problems.push(`vpcCidr "${vpcCidr}" must be an IPv4 CIDR block from /16 to /24`);
  const region = environment.CDK_DEFAULT_REGION;
  const availabilityZoneIds = read.list('availabilityZoneIds');
  const availabilityZones = read.list('availabilityZones');
  const zones = zoneProblems(target, region, availabilityZoneIds, availabilityZones);
  problems.push(...zones);
  const natGateways = read.integer('natGateways', 0, 0, 3);
  const interfaceEndpoints = read.boolean('interfaceEndpoints', false);

  // Kafka
  const version = read.string('kafkaVersion', '3.8.x');
  if (!kafkaVersionAtLeast36(version))
    problems.push(
      `kafkaVersion "${version}" must be an MSK version string of Apache Kafka 3.6 or later (AWS::MSK::Topic needs it), e.g. 3.8.x`,
    );
  const brokerType = read.oneOf<BrokerType>('brokerType', 'standard', ['standard', 'express']);
  const instanceType = read.string(
    'brokerInstanceType',
    brokerType === 'express' ? defaults.expressInstanceType : defaults.standardInstanceType,
    INSTANCE_TYPE[brokerType],
    `is not a${brokerType === 'express' ? 'n express.*' : ' kafka.*'} instance type for ${brokerType} brokers`,
  );
  const brokersPerAz = read.integer('brokersPerAz', 1, 1, 10);
  const volumeSizeGiB = read.integer('brokerVolumeGiB', defaults.volumeSizeGiB, 1, 16_384);
  const enhancedMonitoring = read.oneOf<EnhancedMonitoring>(
    'enhancedMonitoring',
    defaults.enhancedMonitoring,
    ['DEFAULT', 'PER_BROKER', 'PER_TOPIC_PER_BROKER', 'PER_TOPIC_PER_PARTITION'],
  );

  // Consumers: provisioned pollers, https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html
  let pollers = defaults.pollers;
  const minPollers = read.raw('minPollers');
  const maxPollers = read.raw('maxPollers');
  if (minPollers !== undefined || maxPollers !== undefined) {
    const minimum = read.integer('minPollers', pollers?.minimum ?? 1, 1, 200);
    const maximum = read.integer('maxPollers', pollers?.maximum ?? Math.max(minimum, 1), 1, 2_000);
    if (minimum > maximum) problems.push(`minPollers (${minimum}) must not exceed maxPollers (${maximum})`);
    pollers = { minimum, maximum };
  }

  // API
  const auth = read.oneOf<ApiAuth>('apiAuth', 'iam', ['iam', 'apiKey', 'cognito']);
  const cognitoUserPoolArn = read.optionalString(
    'cognitoUserPoolArn',
    ARN('cognito-idp', 'userpool/[\\w-]+_[0-9a-zA-Z]+'),
    'is not a Cognito user pool ARN',
  );
  if (auth === 'cognito' && !cognitoUserPoolArn)
    problems.push('apiAuth=cognito needs cognitoUserPoolArn, the user pool whose tokens the API accepts');
  if (auth !== 'cognito' && cognitoUserPoolArn)
    problems.push(`cognitoUserPoolArn is only used with apiAuth=cognito, not apiAuth=${auth}`);
  const throttleRateLimit = read.number('apiThrottleRate', defaults.throttleRateLimit, 1, 10_000);
  const throttleBurstLimit = read.integer('apiThrottleBurst', defaults.throttleBurstLimit, 1, 5_000);
  const quotaPerDay = read.integer('apiQuotaPerDay', defaults.quotaPerDay, 1, 1_000_000_000);
  const manageCloudWatchRole = read.boolean('apiCloudWatchRole', true);
  const producerReservedConcurrency = read.integer(
    'producerReservedConcurrency',
    defaults.producerReservedConcurrency,
    1,
    1_000,
  );

  // Observability
  const logLevel = read.oneOf<LogLevel>('logLevel', defaults.logLevel, ['DEBUG', 'INFO', 'WARN', 'ERROR']);
  const metricsNamespace = read.string(
    'metricsNamespace',
    DEFAULT_METRICS_NAMESPACE,
    NAMESPACE,
    'is not a CloudWatch namespace (1–255 letters, digits or . - _ / #, not starting with AWS/)',
  );
  const tracer = read.boolean('tracer', false);
  const logRetentionDays = read.integer('logRetentionDays', defaults.logRetentionDays, 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays))
    problems.push(
      `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')} (CloudWatch Logs), not ${logRetentionDays}`,
    );
  const alarmEmail = read.optionalString('alarmEmail', EMAIL, 'is not an e-mail address');
  const alarmTopicArn = read.optionalString(
    'alarmTopicArn',
    ARN('sns', '[\\w-]{1,256}'),
    'is not an SNS topic ARN',
  );
  if (alarmEmail && alarmTopicArn)
    problems.push('give alarmEmail (a new topic) or alarmTopicArn (an existing one), not both');
  const offsetLagThreshold = read.integer(
    'offsetLagThreshold',
    defaults.offsetLagThreshold,
    1,
    1_000_000_000,
  );
  const apiErrorRatePercent = read.number('apiErrorRatePercent', 1, 0.01, 100);

  const account = environment.CDK_DEFAULT_ACCOUNT;
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    target,
    features,
    functionArchitecture: functionArchitecture(target, process.arch, architectureOverride),
    stage,
    profile,
    env: { account, region },
    registryName,
    destroyOnRemoval,
    terminationProtection,
    tableDeletionProtection,
    network: {
      vpcCidr,
      availabilityZoneIds,
      availabilityZones,
      // Zones unpinned and the region unknown: checked by CloudFormation instead (KafkaStack). LocalStack
      // emulates MSK in a local container, where zones mean nothing.
      refuseUsEast1: target === 'aws' && !region && !availabilityZoneIds && !availabilityZones,
      natGateways,
      interfaceEndpoints,
    },
    kafka: { version, brokerType, instanceType, brokersPerAz, volumeSizeGiB, enhancedMonitoring },
    consumers: { pollers },
    api: {
      auth,
      cognitoUserPoolArn,
      throttleRateLimit,
      throttleBurstLimit,
      quotaPerDay,
      manageCloudWatchRole,
      producerReservedConcurrency,
    },
    observability: {
      logLevel,
      metricsNamespace,
      tracer,
      logRetentionDays,
      alarmEmail,
      alarmTopicArn,
      offsetLagThreshold,
      apiErrorRatePercent,
    },
  };
}
