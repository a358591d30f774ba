/**
 * The dashboard and the alarms of one deployment.
 *
 * Dashboard: API requests, 4xx, 5xx and p99 latency; accepted and rejected events; the offset lag of
 * each event-source mapping; errors, throttles and duration of every function; dead-lettered records
 * and derived events per consumer.
 *
 * Alarms: a mapping lagging behind (OffsetLag, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html),
 * any dead-lettered record, any function error, and the API's 5xx rate. Their actions go to an SNS
 * topic when one is configured.
 *
 * The functions' own metrics (Powertools EMF, namespace from the configuration) carry the dimensions
 * `service`, `topic` and, for the consumers, `eventType`. Graphs use SEARCH expressions and alarms
 * Metrics Insights queries, both filtered on `service` only, so they add up every event type and keep
 * working if the handlers change their other dimensions
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-alarms.html).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

export interface ObservedConsumer {
  /** Consumer name (the `service` dimension of its metrics). */
  readonly name: string;
  readonly sourceTopic: string;
  readonly function: IFunction;
}

export interface ObservabilityProps {
  readonly stage: string;
  readonly api: RestApi;
  readonly producer: IFunction;
  readonly consumers: readonly ObservedConsumer[];
  /** Namespace of the functions' metrics. */
  readonly metricsNamespace: string;
  /** Records a mapping may lag behind for 15 minutes before its alarm fires. */
  readonly offsetLagThreshold: number;
  /** % of API requests answered 5xx over 5 minutes above which the API alarm fires. */
  readonly apiErrorRatePercent: number;
  /** Subscribe this address to a new alarm topic. */
  readonly alarmEmail?: string;
  /** Send alarm actions to this existing topic. */
  readonly alarmTopicArn?: string;
  /** Create the dashboard; off for a target without CloudWatch dashboards. @default true */
  readonly dashboard?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);

export class Observability extends Construct {
  /** The dashboard, when created. */
  readonly dashboard: Dashboard | undefined;
  readonly alarms: Alarm[] = [];
  /** Where alarm actions go, if anywhere. */
  readonly alarmTopic: ITopic | undefined;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    if (props.alarmEmail && props.alarmTopicArn)
      throw new Error('give an alarm e-mail or an alarm topic, not both');
    this.alarmTopic = props.alarmTopicArn
      ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : props.alarmEmail
        ? this.newAlarmTopic(props.stage, props.alarmEmail)
        : undefined;

    const ns = props.metricsNamespace;
    /** Sum of one of the functions' metrics for one service, over every other dimension. */
    const serviceSum = (metricName: string, service: string, label: string) =>
      new MathExpression({
        expression: `SUM(SEARCH('Namespace="${ns}" MetricName="${metricName}" service="${service}"', 'Sum', 300))`,
        label,
        period: FIVE_MINUTES,
      });
    /** The same, as a Metrics Insights query an alarm can evaluate. */
    const serviceQuery = (metricName: string, service: string, label: string) =>
      new MathExpression({
        expression: `SELECT SUM(${metricName}) FROM "${ns}" WHERE service = '${service}'`,
        label,
        period: FIVE_MINUTES,
      });
    const offsetLag = (c: ObservedConsumer) =>
      new Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OffsetLag',
        dimensionsMap: { FunctionName: c.function.functionName },
        statistic: 'Maximum',
        period: FIVE_MINUTES,
        label: c.sourceTopic,
      });
    const functions: { name: string; fn: IFunction }[] = [
      { name: 'producer', fn: props.producer },
      ...props.consumers.map((c) => ({ name: c.name, fn: c.function })),
    ];

    // Alarms
    const alarm = (name: string, description: string, metric: IMetric, threshold: number, periods = 1) => {
      const a = new Alarm(this, name, {
        alarmName: `${props.stage}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      if (this.alarmTopic) {
        a.addAlarmAction(new SnsAction(this.alarmTopic));
        a.addOkAction(new SnsAction(this.alarmTopic));
      }
      this.alarms.push(a);
      return a;
    };
    for (const c of props.consumers) {
      alarm(
        `${c.name}-lag`,
        `${c.name} is more than ${props.offsetLagThreshold} records behind on ${c.sourceTopic} for 15 minutes.`,
        offsetLag(c),
        props.offsetLagThreshold,
        3,
      );
      alarm(
        `${c.name}-dead-letters`,
        `${c.name} sent records to ${c.sourceTopic}.dlq: read the reason in each dead letter.`,
        serviceQuery('RecordsDeadLettered', c.name, 'dead-lettered records'),
        0,
      );
    }
    for (const f of functions) {
      alarm(
        `${f.name}-errors`,
        `The ${f.name} function failed invocations (see its log group).`,
        f.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        0,
      );
    }
    const apiErrorRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        requests: props.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
        errors: props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      label: '5xx, % of requests',
      period: FIVE_MINUTES,
    });
    alarm(
      'api-5xx-rate',
      `More than ${props.apiErrorRatePercent}% of API requests answered 5xx over 5 minutes.`,
      apiErrorRate,
      props.apiErrorRatePercent,
    );

    // Dashboard
    if (props.dashboard === false) {
      this.dashboard = undefined;
      return;
    }
    const graph = (title: string, left: IMetric[], width = 8) =>
      new GraphWidget({ title, left, width, height: 6 });
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${props.stage}-events`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard = dashboard;
    dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${props.stage} events\nAPI → producer → Kafka → consumers. Dead letters: \`<topic>.dlq\`; alarms below.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      graph(
        'API requests',
        [props.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum', label: 'requests' })],
        6,
      ),
      graph(
        'API 4xx and 5xx',
        [
          props.api.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum', label: '4xx' }),
          props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum', label: '5xx' }),
        ],
        6,
      ),
      graph(
        'API latency p99 (ms)',
        [props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99', label: 'p99' })],
        6,
      ),
      graph(
        'Events accepted / rejected',
        [
          serviceSum('EventsAccepted', 'producer', 'accepted'),
          serviceSum('EventsRejected', 'producer', 'rejected'),
        ],
        6,
      ),
    );
    dashboard.addWidgets(
      graph('Offset lag per mapping (records, max)', props.consumers.map(offsetLag), 8),
      graph(
        'Dead-lettered records',
        props.consumers.map((c) => serviceSum('RecordsDeadLettered', c.name, c.name)),
        8,
      ),
      graph(
        'Derived events emitted',
        props.consumers.map((c) => serviceSum('DerivedEventsEmitted', c.name, c.name)),
        8,
      ),
    );
    dashboard.addWidgets(
      graph(
        'Function errors',
        functions.map((f) => f.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: f.name })),
      ),
      graph(
        'Function throttles',
        functions.map((f) => f.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label: f.name })),
      ),
      graph(
        'Function duration p99 (ms)',
        functions.map((f) => f.fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label: f.name })),
      ),
    );
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
  }

  /**
   * A topic CloudWatch can publish to: encrypted with a customer-managed key whose policy lets
   * CloudWatch use it (the AWS-managed SNS key does not,
   * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
   * and refusing publishers that do not use TLS.
   */
  private newAlarmTopic(stage: string, email: string): Topic {
    const key = new Key(this, 'AlarmTopicKey', {
      description: `Encrypts the ${stage} alarm topic`,
      enableKeyRotation: true,
      // It protects notifications in flight only; nothing is lost with it.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    const topic = new Topic(this, 'AlarmTopicResource', {
      topicName: `${stage}-events-alarms`,
      displayName: `${stage} events alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    const subscription = topic.addSubscription(new EmailSubscription(email));
    acknowledge(
      subscription,
      'Serverless-SNSRedrivePolicy',
      'An e-mail subscription: SNS retries failed deliveries under its delivery policy, and a dead-letter queue of ' +
        'undelivered alarm e-mails would be one more queue nobody reads; the alarm states stay in CloudWatch.',
    );
    return topic;
  }
}
