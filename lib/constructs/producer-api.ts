/**
 * The producer endpoint: an API Gateway REST API whose two routes, `POST /events/{stream}` and
 * `POST /events/{stream}/batch`, proxy to the producer function, which validates events against the
 * contracts, frames them in the Glue wire format and writes them to their stream's topic.
 *
 * - Authorization: IAM (SigV4) by default; an API key with a usage plan, or a Cognito user pool
 *   authorizer, by configuration.
 * - Validation: API Gateway checks the request parameters and headers (the `stream` path parameter
 *   and `Content-Type`). API Gateway models are JSON Schema draft 4
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/models-mappings-models.html) and
 *   the contracts are draft-07 (they use `const`), so bodies are validated by the producer, against
 *   the very schemas Glue holds.
 * - Throttling on the stage, access logs as JSON, execution logs without bodies, X-Ray tracing.
 * - The function may connect, describe and write (idempotently) the streams' topics — nothing else.
 */

import { CfnOutput, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKey,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  EndpointType,
  type IAuthorizer,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  Period,
  RequestValidator,
  ResponseType,
  RestApi,
  UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import { UserPool } from 'aws-cdk-lib/aws-cognito';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ANALYTICS_ROUTE } from '../../core/analytics-query';
import { functionEntries } from '../../core/bundling';
import { FUNCTION_ENV, kafkaEnvironment } from '../../core/env';
import type { StreamSpec } from '../../core/topology';
import type { ApiAuth, LogLevel } from '../config';
import type { FunctionArchitecture, KafkaClientAuth } from '../target';
import { EventFunction } from './event-function';
import { type KafkaClusterRef, kafkaProducerStatements } from './kafka-access';
import { acknowledge } from './nag';

/** The producer's handler source (lib/bundling.ts lists every function's entry). */
const PRODUCER_ENTRY = functionEntries([]).producer as string;

/** The API stage, the first path segment of every URL. */
const API_STAGE_NAME = 'v1';

/** The route of the analytics API (lambdas/analytics/api.ts). */
const ANALYTICS_DAILY = { path: ANALYTICS_ROUTE, method: 'GET' } as const;

/** The routes this API serves: path (OpenAPI style) and method. */
export const API_ROUTES = [
  { path: '/events/{stream}', method: 'POST' },
  { path: '/events/{stream}/batch', method: 'POST' },
  ANALYTICS_DAILY,
] as const;

/** The query string of `GET /analytics/daily`: both dates are required (the function checks their form). */
const ANALYTICS_REQUEST_PARAMETERS = {
  'method.request.querystring.from': true,
  'method.request.querystring.to': true,
} as const;

/** What API Gateway requires of every request (parameters it validates). */
const REQUIRED_REQUEST_PARAMETERS = {
  'method.request.path.stream': true,
  'method.request.header.Content-Type': true,
} as const;

export interface ProducerApiProps {
  readonly stage: string;
  readonly streams: readonly StreamSpec[];
  readonly cluster: KafkaClusterRef;
  readonly bootstrapBrokers: string;
  readonly bootstrapBrokersMaxLength: number;
  /** How the producer authenticates to the brokers (`KAFKA_AUTH`). @default 'iam' */
  readonly kafkaAuth?: KafkaClientAuth;
  readonly schemaVersionIds: string;
  readonly schemaVersionIdsMaxLength: number;
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroup: ISecurityGroup;
  readonly auth: ApiAuth;
  /** For `cognito` auth. */
  readonly cognitoUserPoolArn?: string;
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /** Requests per day per API key (`apiKey` auth). */
  readonly quotaPerDay: number;
  /** Set the account's API Gateway CloudWatch Logs role. */
  readonly manageCloudWatchRole: boolean;
  readonly logLevel: LogLevel;
  readonly metricsNamespace: string;
  /** Powertools Tracer in the function (see ObservabilityConfig.tracer). @default false */
  readonly tracer?: boolean;
  readonly logRetention: RetentionDays;
  /** Encrypts the function's and the access log groups (lib/constructs/log-key.ts). */
  readonly logKey?: IKey;
  readonly logRemovalPolicy?: RemovalPolicy;
  /** The instruction set (lib/target.ts `functionArchitecture`). @default 'arm64' */
  readonly architecture?: FunctionArchitecture;
  /**
   * Reserved concurrency of the function. The stage throttle bounds requests per second, not how many
   * instances run at once, and each instance opens its own IAM-authenticated connection to each broker
   * it writes to, while MSK limits them per broker: "Maximum TCP connections per broker (IAM access
   * control)" 3000 and a "Maximum TCP connection rate per broker (IAM)" of 100 per second on M5/M7g
   * brokers, less on T3 ones (https://docs.aws.amazon.com/msk/latest/developerguide/limits.html). A cold
   * burst of unbounded instances would exhaust that rate and fail requests; the bound keeps it in reach.
   */
  readonly reservedConcurrency: number;
  /** The function behind `GET /analytics/daily` (lib/constructs/analytics.ts). */
  readonly analyticsFunction: IFunction;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Below API Gateway's 29-second integration timeout
   * (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
   * @default 20 seconds
   */
  readonly timeout?: Duration;
}

export class ProducerApi extends Construct {
  readonly eventFunction: EventFunction;
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ProducerApiProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(20);
    if (timeout.toSeconds() >= 29)
      throw new Error('the producer timeout must stay below API Gateway’s 29-second integration timeout');
    if (props.auth === 'cognito' && !props.cognitoUserPoolArn)
      throw new Error('cognito authorization needs a user pool ARN');
    const topics = [...new Set(props.streams.map((s) => s.topic))];

    this.eventFunction = new EventFunction(this, 'Function', {
      functionName: `${props.stage}-producer`,
      entry: PRODUCER_ENTRY,
      description: `Producer endpoint: validates events and writes them to ${topics.join(', ')}.`,
      memorySize: props.memorySize ?? 512,
      timeout,
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [props.securityGroup],
      serviceName: 'producer',
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
      statements: kafkaProducerStatements(props.cluster, topics),
      reservedConcurrentExecutions: props.reservedConcurrency,
      logRetention: props.logRetention,
      logKey: props.logKey,
      logRemovalPolicy: props.logRemovalPolicy,
    });

    // No fixed name: a retained log group of a fixed name would make the next deployment fail.
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.logRemovalPolicy,
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: `${props.stage}-events`,
      description:
        'Event ingestion (POST /events/{stream}, POST /events/{stream}/batch) and daily analytics (GET /analytics/daily).',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: props.manageCloudWatchRole,
      deployOptions: {
        stageName: API_STAGE_NAME,
        tracingEnabled: true,
        metricsEnabled: true,
        // Errors only, and never request bodies (they hold personal data).
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });

    let authorizer: IAuthorizer | undefined;
    if (props.auth === 'cognito') {
      authorizer = new CognitoUserPoolsAuthorizer(this, 'Authorizer', {
        cognitoUserPools: [UserPool.fromUserPoolArn(this, 'UserPool', props.cognitoUserPoolArn as string)],
      });
    }
    const validator = new RequestValidator(this, 'ParameterValidator', {
      restApi: this.api,
      requestValidatorName: 'parameters-and-headers',
      validateRequestParameters: true,
      validateRequestBody: false,
    });
    const integration = new LambdaIntegration(this.eventFunction.function, { proxy: true });
    const methodOptions = {
      authorizationType:
        props.auth === 'iam'
          ? AuthorizationType.IAM
          : props.auth === 'cognito'
            ? AuthorizationType.COGNITO
            : AuthorizationType.NONE,
      authorizer,
      apiKeyRequired: props.auth === 'apiKey',
      requestValidator: validator,
      requestParameters: { ...REQUIRED_REQUEST_PARAMETERS },
    };
    const streamResource = this.api.root.addResource('events').addResource('{stream}');
    // The analytics route: the same authorization, validator and stage (throttling, access logs) as the
    // event routes; API Gateway refuses a request without `from` or `to` before invoking the function.
    const [, analyticsSegment, dailySegment] = ANALYTICS_DAILY.path.split('/') as [string, string, string];
    const methods = [
      streamResource.addMethod('POST', integration, methodOptions),
      streamResource.addResource('batch').addMethod('POST', integration, methodOptions),
      this.api.root
        .addResource(analyticsSegment)
        .addResource(dailySegment)
        .addMethod(ANALYTICS_DAILY.method, new LambdaIntegration(props.analyticsFunction, { proxy: true }), {
          ...methodOptions,
          requestParameters: { ...ANALYTICS_REQUEST_PARAMETERS },
        }),
    ];

    if (props.auth === 'apiKey') {
      const plan = new UsagePlan(this, 'UsagePlan', {
        name: `${props.stage}-events`,
        throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
        quota: { limit: props.quotaPerDay, period: Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      const key = new ApiKey(this, 'ApiKey', {
        description: `Key of the ${props.stage} event API; its value is in the API Gateway console`,
      });
      plan.addApiKey(key);
      new CfnOutput(this, 'ApiKeyId', {
        value: key.keyId,
        description: 'aws apigateway get-api-key --include-value --api-key <id> prints the key',
      });
    }

    // Requests API Gateway refuses itself (missing parameters or headers, authorization, throttling)
    // are answered in the producer's error shape ({ error, message, requestId }, core/api/openapi.ts).
    const errorBody = {
      'application/json':
        '{"error":"$context.error.responseType","message":$context.error.messageString,"requestId":"$context.requestId"}',
    };
    for (const [id, type] of [
      ['Default4xx', ResponseType.DEFAULT_4XX],
      ['Default5xx', ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(id, { type, templates: errorBody });
    }

    this.acknowledgeFindings(props, methods);

    new CfnOutput(this, 'EventsUrl', {
      value: `${this.api.url}events/{stream}`,
      description: 'POST one event here ({stream}: user, order or payment); append /batch for several',
    });
  }

  private acknowledgeFindings(props: ProducerApiProps, methods: readonly Method[]): void {
    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'API Gateway validates the request parameters and headers (path parameter stream, Content-Type; the query ' +
        'string parameters from and to of GET /analytics/daily, which has no body). Bodies are ' +
        'validated by the producer against the contracts: they are JSON Schema draft-07 (const), which API Gateway ' +
        'models (draft 4) cannot express, and one validator for every runtime keeps one source of truth.',
    );
    acknowledge(
      this.api.deploymentStage,
      'AwsSolutions-APIG3',
      'Every request is authenticated (IAM SigV4 by default, or an API key or a Cognito token) and throttled on the ' +
        'stage; associate an AWS WAFv2 web ACL with the stage if your organisation requires one for internal APIs.',
    );
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'This is the account-wide role API Gateway uses to write the logs of every REST API in the Region, so it ' +
          'cannot be scoped to this API; the AWS-managed policy is the one API Gateway documents for it ' +
          '(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).',
      );
    }
    for (const method of methods) {
      if (props.auth !== 'cognito') {
        acknowledge(
          method,
          'AwsSolutions-COG4',
          `Callers authorize with ${props.auth === 'iam' ? 'IAM (SigV4)' : 'an API key and usage plan'}, as configured ` +
            '(apiAuth); a Cognito user pool authorizer is the apiAuth=cognito option.',
        );
      }
      if (props.auth === 'apiKey') {
        acknowledge(
          method,
          'AwsSolutions-APIG4',
          'apiAuth=apiKey was chosen: every request needs an API key of the usage plan, which also throttles and ' +
            'caps it per day; use apiAuth=iam or apiAuth=cognito for per-caller authorization.',
        );
      }
    }
  }
}
