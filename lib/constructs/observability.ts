/**
 * The dashboard and the alarms of one deployment.
 *
 * Dashboard: API requests, 4xx, 5xx and p99 latency; accepted and rejected events; the offset lag of
 * each event-source mapping; errors, throttles and duration of every function; dead-lettered records
 * and derived events per consumer; the records each mapping sent to `<topic>.dlq` or dropped.
 *
 * Alarms: a mapping lagging behind (OffsetLag, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html),
 * any record a handler dead-lettered, any function error, and the API's 5xx rate. Their actions go to
 * an SNS topic when one is configured.
 *
 * The records the event-source mapping itself sends to `<topic>.dlq` (retries or record age exhausted,
 * schema-registry failures) never pass through a handler, so its `RecordsDeadLettered` misses them.
 * Where the mapping publishes its own metrics (MetricsConfig, every group, in every stage:
 * consumer-function.ts), each consumer also gets alarms on them, per mapping (dimension
 * `EventSourceMappingUUID`, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-view.html),
 * from the metrics the Lambda guide documents for MSK mappings
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics):
 * - `<consumer>-mapping-dead-letters`: `OnFailureDestinationDeliveredEventCount` (EventCount group),
 *   records the mapping sent to the on-failure destination;
 * - `<consumer>-records-dropped`: `DroppedEventCount` (EventCount), records dropped after their
 *   retries or age ran out, including those whose delivery to the destination failed ("For the
 *   DroppedEventCount metric, Lambda emits a number equal to the number of events that failed delivery");
 * - `<consumer>-mapping-errors`: the ErrorCount group (`PollingErrorCount`, `InvokeErrorCount`,
 *   `OnFailureDestinationDeliveryErrorCount`, `SchemaRegistryErrorCount`, `CommitErrorCount`), each
 *   emitted only when an error happened;
 * - `<consumer>-not-polling`: neither `PolledEventCount` (which Lambda emits, 0 on an empty poll,
 *   whenever it polls: "Use this metric to detect whether your event source mapping is correctly
 *   polling") nor `OffsetLag` arrived for 15 minutes: the mapping is disabled ("If your event source
 *   mapping is disabled, you won't receive event source mapping metrics"), stuck, or cannot reach
 *   the cluster. The expression FILLs each missing value with 0
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html), and the
 *   alarm treats a period with no data at all as breaching
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
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
import { CONSUMER_METRICS, PRODUCER_METRICS } from '../../core/metrics';
import { acknowledge } from './nag';

export interface ObservedConsumer {
  /** Name of this mapping's alarms, e.g. `user-consumer` or `analytics-user-events`. */
  readonly name: string;
  /**
   * The `service` dimension of the function's metrics, and the name of its per-function alarms (lag,
   * dead letters, errors): a function with several mappings (the analytics consumer) is listed once
   * per mapping with the same service. @default name
   */
  readonly service?: string;
  readonly sourceTopic: string;
  readonly function: IFunction;
  /**
   * The UUID of the consumer's event-source mapping, when the mapping publishes its own metrics
   * (MetricsConfig); without it, no alarm on them.
   */
  readonly eventSourceMappingId?: string;
}

export interface ObservabilityProps {
  readonly stage: string;
  readonly api: RestApi;
  readonly producer: IFunction;
  readonly consumers: readonly ObservedConsumer[];
  /** Other functions (no mapping), with the name of their alarm. @default none */
  readonly functions?: readonly { readonly name: string; readonly function: IFunction }[];
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
    const serviceOf = (c: ObservedConsumer) => c.service ?? c.name;
    /** The consumers by function: one entry per service, with every topic its mappings read. */
    const byService = new Map<string, { first: ObservedConsumer; topics: string[] }>();
    for (const c of props.consumers) {
      const entry = byService.get(serviceOf(c));
      if (entry) entry.topics.push(c.sourceTopic);
      else byService.set(serviceOf(c), { first: c, topics: [c.sourceTopic] });
    }
    /** OffsetLag per function: the largest lag of its mappings. */
    const offsetLag = (c: ObservedConsumer, label = c.sourceTopic) =>
      new Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OffsetLag',
        dimensionsMap: { FunctionName: c.function.functionName },
        statistic: 'Maximum',
        period: FIVE_MINUTES,
        label,
      });
    const functions: { name: string; fn: IFunction }[] = [
      { name: 'producer', fn: props.producer },
      ...[...byService].map(([service, { first }]) => ({ name: service, fn: first.function })),
      ...(props.functions ?? []).map((f) => ({ name: f.name, fn: f.function })),
    ];

    /** One of the mapping's own metrics (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics). */
    const mappingMetric = (mappingId: string, metricName: string, statistic = 'Sum') =>
      new Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { EventSourceMappingUUID: mappingId },
        statistic,
        period: FIVE_MINUTES,
      });

    // Alarms
    const alarm = (
      name: string,
      description: string,
      metric: IMetric,
      threshold: number,
      periods = 1,
      below: { missingData: TreatMissingData } | undefined = undefined,
    ) => {
      const a = new Alarm(this, name, {
        alarmName: `${props.stage}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: below
          ? ComparisonOperator.LESS_THAN_THRESHOLD
          : ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: below?.missingData ?? TreatMissingData.NOT_BREACHING,
      });
      if (this.alarmTopic) {
        a.addAlarmAction(new SnsAction(this.alarmTopic));
        a.addOkAction(new SnsAction(this.alarmTopic));
      }
      this.alarms.push(a);
      return a;
    };
    for (const [service, { first, topics }] of byService) {
      alarm(
        `${service}-lag`,
        `${service} is more than ${props.offsetLagThreshold} records behind on ${topics.join(' or ')} for 15 minutes.`,
        offsetLag(first, topics.join(', ')),
        props.offsetLagThreshold,
        3,
      );
      alarm(
        `${service}-dead-letters`,
        `${service} sent records to ${topics.map((t) => `${t}.dlq`).join(' or ')}: read the reason in each dead letter.`,
        serviceQuery(CONSUMER_METRICS.deadLettered, service, 'dead-lettered records'),
        0,
      );
    }
    for (const c of props.consumers) {
      // A function's OffsetLag is the largest of its mappings' lags: for a function with several
      // mappings it cannot tell one mapping's polls, so PolledEventCount alone says whether this one polls.
      const sharedFunction = serviceOf(c) !== c.name;
      const mappingId = c.eventSourceMappingId;
      if (mappingId === undefined) continue;
      alarm(
        `${c.name}-mapping-dead-letters`,
        `The event-source mapping of ${c.name} sent records to ${c.sourceTopic}.dlq itself (retries or record age ` +
          'exhausted, or schema-registry validation failed): read the reason in each dead letter.',
        mappingMetric(mappingId, 'OnFailureDestinationDeliveredEventCount'),
        0,
      );
      alarm(
        `${c.name}-records-dropped`,
        `The event-source mapping of ${c.name} dropped records of ${c.sourceTopic} without delivering them to ` +
          `${c.sourceTopic}.dlq (their retries or age ran out and the delivery failed): they are lost to the consumer.`,
        mappingMetric(mappingId, 'DroppedEventCount'),
        0,
      );
      const errorCounts = [
        'PollingErrorCount',
        'InvokeErrorCount',
        'OnFailureDestinationDeliveryErrorCount',
        'SchemaRegistryErrorCount',
        'CommitErrorCount',
      ];
      alarm(
        `${c.name}-mapping-errors`,
        `The event-source mapping of ${c.name} failed to poll ${c.sourceTopic}, invoke the function, deliver to ` +
          `${c.sourceTopic}.dlq, read a schema or commit offsets (${errorCounts.join(', ')}): see its system logs.`,
        new MathExpression({
          expression: errorCounts.map((_, i) => `FILL(e${i}, 0)`).join(' + '),
          usingMetrics: Object.fromEntries(errorCounts.map((m, i) => [`e${i}`, mappingMetric(mappingId, m)])),
          label: 'mapping errors',
          period: FIVE_MINUTES,
        }),
        0,
      );
      alarm(
        `${c.name}-not-polling`,
        `The event-source mapping of ${c.name} published neither PolledEventCount nor OffsetLag for 15 minutes: ` +
          `it is disabled, stuck or cannot reach the cluster, and ${c.sourceTopic} is not being consumed.`,
        sharedFunction
          ? new MathExpression({
              expression: 'FILL(polls, 0)',
              usingMetrics: { polls: mappingMetric(mappingId, 'PolledEventCount', 'SampleCount') },
              label: 'PolledEventCount data points',
              period: FIVE_MINUTES,
            })
          : new MathExpression({
              expression: 'FILL(polls, 0) + FILL(lags, 0)',
              usingMetrics: {
                polls: mappingMetric(mappingId, 'PolledEventCount', 'SampleCount'),
                lags: offsetLag(c).with({ statistic: 'SampleCount' }),
              },
              label: 'PolledEventCount and OffsetLag data points',
              period: FIVE_MINUTES,
            }),
        1,
        3,
        { missingData: TreatMissingData.BREACHING },
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
          serviceSum(PRODUCER_METRICS.accepted, 'producer', 'accepted'),
          serviceSum(PRODUCER_METRICS.rejected, 'producer', 'rejected'),
        ],
        6,
      ),
    );
    dashboard.addWidgets(
      graph(
        'Offset lag per function (records, max)',
        [...byService.values()].map(({ first, topics }) => offsetLag(first, topics.join(', '))),
        8,
      ),
      graph(
        'Dead-lettered records',
        [...byService.keys()].map((service) => serviceSum(CONSUMER_METRICS.deadLettered, service, service)),
        8,
      ),
      graph(
        'Derived events emitted',
        [...byService.keys()].map((service) => serviceSum(CONSUMER_METRICS.derived, service, service)),
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
    const mapped = props.consumers.flatMap((c) =>
      c.eventSourceMappingId === undefined ? [] : [{ name: c.name, id: c.eventSourceMappingId }],
    );
    if (mapped.length > 0)
      dashboard.addWidgets(
        graph(
          'Mapping: records sent to <topic>.dlq, and dropped',
          mapped.flatMap((m) => [
            mappingMetric(m.id, 'OnFailureDestinationDeliveredEventCount').with({
              label: `${m.name} to dlq`,
            }),
            mappingMetric(m.id, 'DroppedEventCount').with({ label: `${m.name} dropped` }),
          ]),
          24,
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
