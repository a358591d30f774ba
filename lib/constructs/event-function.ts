/**
 * A function of this system, built the same way for the producer and every consumer: Node.js 24 on
 * arm64 (or the deployment target's architecture, lib/target.ts), a minified esbuild bundle (local esbuild, never Docker; settings in lib/bundling.ts) with
 * source maps, in the VPC, X-Ray
 * tracing, Powertools configuration in the environment, its own log group with a retention, and its
 * own execution role whose only policy is the inline one this construct writes: every statement is
 * passed in, scoped, and visible in one place.
 *
 * The function receives its role without policy updates: constructs that would add statements or
 * managed policies to it (ManagedKafkaEventSource attaches AWSLambdaMSKExecutionRole and GlueSchemaRegistry
 * adds its own statements) cannot widen it. What they would have granted is granted here instead,
 * scoped to this function's resources.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type ILogGroup, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionBundling } from '../bundling';
import type { LogLevel } from '../config';
import type { FunctionArchitecture } from '../target';
import { acknowledge, acknowledgeWildcardResource } from './nag';

/** The repository root, where package-lock.json and the handler sources are. */
const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Name of the handler export of every entry file. */
const HANDLER_EXPORT = 'handler';

/**
 * Lambda's limit on a function's environment: "The total size of all environment variables doesn't
 * exceed 4 KB" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
 */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4 * 1024;

export interface EventFunctionProps {
  /** Function name, e.g. `dev-user-consumer`. */
  readonly functionName: string;
  /** Handler source relative to the project root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** The function's own security group(s). */
  readonly securityGroups: readonly ISecurityGroup[];
  /**
   * Every security group Lambda creates network interfaces with using this role: the function's and,
   * for a function with an MSK event-source mapping, the cluster's (the mapping's pollers get them).
   * @default the function's security groups
   */
  readonly networkInterfaceSecurityGroups?: readonly ISecurityGroup[];
  /** Powertools service name (and metrics `service` dimension). */
  readonly serviceName: string;
  readonly logLevel: LogLevel;
  readonly metricsNamespace: string;
  /**
   * Powertools Tracer (X-Ray SDK) in the function, loaded only when this is on: Lambda's active
   * tracing records every invocation either way. @default false
   */
  readonly tracer?: boolean;
  /** The instruction set (lib/target.ts `functionArchitecture`). @default 'arm64' */
  readonly architecture?: FunctionArchitecture;
  /** Further environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Upper bound of the size of each environment value that is a deploy-time token, to check Lambda's
   * 4 KB limit at synth; every token-valued variable must have one.
   */
  readonly environmentSizeEstimates?: Readonly<Record<string, number>>;
  /** What the function (and its event-source mapping) may do, beyond logs, traces and its VPC interfaces. */
  readonly statements: readonly PolicyStatement[];
  readonly logRetention: RetentionDays;
  /** Encrypts its log group (lib/constructs/log-key.ts). @default CloudWatch Logs' own encryption */
  readonly logKey?: IKey;
  /**
   * Reserved concurrency: the most instances that run at once (and the least the account keeps for
   * this function). @default none: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Why the function needs no dead-letter queue (cdk-nag Serverless-LambdaDLQ): who invokes it, and
   * where failures go. @default invoked synchronously by API Gateway or an MSK event-source mapping
   */
  readonly noDeadLetterQueueReason?: string;
}

const ec2Arn = (scope: Construct, resource: string, name: string) =>
  Stack.of(scope).formatArn({ service: 'ec2', resource, resourceName: name });

/** What a function needs of its own log group, and nothing else's. */
export function writeOwnLogs(logGroup: ILogGroup): PolicyStatement {
  return new PolicyStatement({
    sid: 'WriteOwnLogs',
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [logGroup.logGroupArn],
  });
}

/** Every network interface of the scope's account and Region. */
const anyNetworkInterfaceArn = (scope: Construct) => ec2Arn(scope, 'network-interface', '*');

/** The statements Lambda needs to give a function (or its mapping) network interfaces in a VPC. */
function vpcNetworkInterfaceStatements(
  scope: Construct,
  subnetIds: readonly string[],
  securityGroupIds: readonly string[],
): PolicyStatement[] {
  const ec2 = (resource: string, name: string) => ec2Arn(scope, resource, name);
  // Lambda's requirements: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
  // ("ec2:DescribeNetworkInterfaces – This action only works if it's allowed on all resources").
  // EC2 Describe* actions have no resource-level permissions at all.
  return [
    new PolicyStatement({
      sid: 'VpcDescribe',
      actions: [
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ],
      resources: ['*'],
    }),
    // CreateNetworkInterface authorizes the interface, its subnet and its security groups: only ours.
    new PolicyStatement({
      sid: 'VpcCreateNetworkInterface',
      actions: ['ec2:CreateNetworkInterface'],
      resources: [
        anyNetworkInterfaceArn(scope),
        ...subnetIds.map((id) => ec2('subnet', id)),
        ...securityGroupIds.map((id) => ec2('security-group', id)),
      ],
    }),
    // The interfaces' ids are Lambda's to choose, so this is every interface of this account and Region.
    new PolicyStatement({
      sid: 'VpcManageNetworkInterfaces',
      actions: [
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: [anyNetworkInterfaceArn(scope)],
    }),
  ];
}

/** Checks a function environment against Lambda's 4 KB limit, estimating deploy-time values. */
export function assertEnvironmentFits(
  functionName: string,
  environment: Readonly<Record<string, string>>,
  estimates: Readonly<Record<string, number>> = {},
): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(environment)) {
    let size: number;
    if (Token.isUnresolved(value)) {
      const estimate = estimates[key];
      if (estimate === undefined)
        throw new Error(
          `${functionName}: environment variable ${key} is a deploy-time value with no size estimate`,
        );
      size = estimate;
    } else {
      size = Buffer.byteLength(value, 'utf8');
    }
    bytes += Buffer.byteLength(key, 'utf8') + size;
  }
  if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    throw new Error(
      `${functionName}: its environment would take about ${bytes} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}-byte limit`,
    );
  }
  return bytes;
}

export class EventFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: EventFunctionProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      POWERTOOLS_TRACE_ENABLED: String(props.tracer ?? false),
      // Stack traces point into the TypeScript sources through the bundle's source map.
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    };
    assertEnvironmentFits(props.functionName, environment, props.environmentSizeEstimates);

    // No fixed name: Lambda logs here through the function's LoggingConfig, and a retained log group of
    // a fixed name (`/aws/lambda/<function>`) would make the next deployment fail.
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds;
    const interfaceGroups = props.networkInterfaceSecurityGroups ?? props.securityGroups;
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
      inlinePolicies: {
        Execution: new PolicyDocument({
          statements: [
            writeOwnLogs(this.logGroup),
            // X-Ray has no resource-level permissions
            // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).
            new PolicyStatement({
              sid: 'WriteTraces',
              actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
              resources: ['*'],
            }),
            ...vpcNetworkInterfaceStatements(
              this,
              subnetIds,
              [...new Set(interfaceGroups)].map((g) => g.securityGroupId),
            ),
            ...props.statements,
          ],
        }),
      },
    });

    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: join(PROJECT_ROOT, props.entry),
      handler: HANDLER_EXPORT,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: props.architecture === 'x86_64' ? Architecture.X86_64 : Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [...props.securityGroups],
      allowPublicSubnet: false,
      role: this.role.withoutPolicyUpdates(),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment,
      // lib/bundling.ts: the settings the local runtime's --bundles mode and the bundle-size report
      // build with too, so what is measured and run locally is what is deployed.
      bundling: {
        // The Tracer is in the bundle only when the function may load it (core/bundling.ts).
        ...functionBundling(props.tracer ?? false),
        // With bundling skipped (context aws:cdk:bundling-stacks), CDK would fingerprint the whole project
        // directory, node_modules included, to name the asset it does not build: name it instead.
        assetHash: Stack.of(this).bundlingRequired ? undefined : `unbundled-${props.functionName}`,
      },
    });

    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only actions without resource-level permissions are on "*": xray:PutTraceSegments/PutTelemetryRecords ' +
        '(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html) and ' +
        "ec2:Describe* for Lambda's VPC networking (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html), " +
        "and kafka:GetBootstrapBrokers for an MSK event-source mapping's broker lookup (no resource type: " +
        'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedstreamingforapachekafka.html).',
    );
    acknowledgeWildcardResource(
      this.role,
      anyNetworkInterfaceArn(this),
      'Lambda names the network interfaces it creates and deletes for the function (and its event-source mapping), ' +
        "so their ids cannot be listed; creation is limited to this VPC's subnets and security groups " +
        '(https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).',
    );
    acknowledge(
      this.role,
      'Serverless-LambdaStarPermissions',
      "The role's wildcards are the ones acknowledged for AwsSolutions-IAM5 on it: X-Ray, EC2 and Kafka actions " +
        'without resource-level permissions, and the network interfaces Lambda manages for the function.',
    );
    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      props.noDeadLetterQueueReason ??
        'The function is invoked synchronously only (API Gateway proxy integration or an MSK event-source mapping), ' +
          "so an asynchronous-invocation DLQ would never receive anything. Failed records go to the mapping's " +
          'on-failure Kafka topic (<topic>.dlq); failed requests are answered with an error status.',
    );
  }
}
