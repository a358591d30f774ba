/**
 * The topology: every Kafka topic, what it carries, and every consumer with the event-source-mapping
 * settings it runs with. The single source of truth read by the CDK stacks (topics, IAM scopes,
 * event-source mappings), the handlers (where derived events go), the local runtime (topics and local
 * event-source mappings) and the tests. Change the system's shape here and nowhere else.
 *
 * Limits enforced by {@link validateTopology} are AWS's, cited there.
 */
import type { EventType } from '../schemas/index';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The record key: `<prefix><data[field]>`, so one entity's events share a partition and stay ordered. */
export interface KeySpec {
  readonly prefix: 'user-' | 'order-' | 'payment-';
  /** Field of the event's `data` holding the entity id. */
  readonly field: 'userId' | 'orderId' | 'paymentId';
}

export interface TopicSpec {
  readonly name: string;
  readonly description: string;
  /** @default 6 for source topics, 3 for derived and dead-letter topics (see {@link topics}) */
  readonly partitions: number;
  /** Replicas in a full cluster; clamped to the broker count on smaller local clusters. */
  readonly replicationFactor: number;
  /** `min.insync.replicas`; with acks=all a write fails rather than land on fewer replicas. */
  readonly minInSyncReplicas: number;
  /** `retention.ms` */
  readonly retentionMs: number;
  /** `cleanup.policy` */
  readonly cleanupPolicy: 'delete' | 'compact';
  /** `max.message.bytes`, the largest record batch the topic accepts. */
  readonly maxMessageBytes: number;
  /**
   * Event types written to this topic, `dead_letter` for `<topic>.dlq`, or `redrive_log` for
   * `<topic>.dlq.redriven` (which dead letters were re-driven: ops/redrive.ts).
   */
  readonly carries: readonly EventType[] | 'dead_letter' | 'redrive_log';
  /** How records are keyed; absent for dead-letter topics, which keep the failed record's key, and re-drive logs. */
  readonly key?: KeySpec;
}

/** A derived event and the topic it is written to. */
export interface Derivation {
  readonly eventType: EventType;
  readonly topic: string;
}

/** Starting position of a consumer group that has no committed offset. */
export type StartingPosition =
  | { readonly type: 'TRIM_HORIZON' }
  | { readonly type: 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: string };

/**
 * Settings of a Lambda event-source mapping for Amazon MSK, as the CDK stack deploys them and the
 * local runtime honours them. Field names follow the Lambda API
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
 */
export interface EventSourceMappingSettings {
  /** Create-only in AWS: changing it means a new mapping that starts from `startingPosition`. */
  readonly consumerGroupId: string;
  readonly startingPosition: StartingPosition;
  /** Most records per invocation (1–10,000), also capped by the 6 MB invoke payload. */
  readonly batchSize: number;
  /** How long to gather records before invoking (0–300 s). */
  readonly maximumBatchingWindowSeconds: number;
  /** Retries of a failing batch before it goes to the on-failure destination (-1 = until expiry, 0–10,000). */
  readonly maximumRetryAttempts: number;
  /** Records older than this are sent to the on-failure destination (-1 = never, 60–604,800 s). */
  readonly maximumRecordAgeSeconds: number;
  /** Split a failing batch in two and retry each half. */
  readonly bisectBatchOnFunctionError: boolean;
  /** The handler returns `batchItemFailures`; processing resumes from the lowest failed offset. */
  readonly reportBatchItemFailures: boolean;
  /** Topic that receives records that exhausted their retries (`kafka://<topic>`). */
  readonly onFailureTopic: string;
  /**
   * Filter patterns on the record `value`; records that match none are skipped (and committed)
   * without invoking. https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
   */
  readonly filters: readonly { readonly pattern: Record<string, unknown> }[];
  /** Provisioned mode, which the error-handling controls and the schema registry need. */
  readonly provisionedPollers: { readonly minimum: number; readonly maximum: number };
  /** Glue Schema Registry integration: validate values and deliver them as JSON. */
  readonly schemaRegistry: { readonly eventRecordFormat: 'JSON' | 'SOURCE'; readonly validateValue: boolean };
}

export interface ConsumerSpec {
  /** Function and mapping name, e.g. `user-consumer`. */
  readonly name: string;
  /** Handler source file (exports `handler`), relative to the project root. */
  readonly entry: string;
  readonly description: string;
  readonly sourceTopic: string;
  /** For each handled event type, the events derived from it. Other types are filtered out. */
  readonly flows: Readonly<Partial<Record<EventType, readonly Derivation[]>>>;
  readonly mapping: EventSourceMappingSettings;
  /** Lambda timeout; a local invocation that overruns it counts as a failure. */
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

/** A stream the producer endpoint accepts (`POST /events/{stream}`). */
export interface StreamSpec {
  readonly name: 'user' | 'order' | 'payment';
  readonly topic: string;
  /** Event types clients may post; derived types on the same topic are not accepted. */
  readonly accepts: readonly EventType[];
}

/** The dead-letter topic of a consumed topic. */
export const dlqOf = (topic: string): string => `${topic}.dlq`;

/** The re-drive log of a dead-letter topic: which of its dead letters were re-driven. */
export const redriveLogOf = (dlq: string): string => `${dlq}.redriven`;

/** The event types a topic carries; none for dead-letter topics and re-drive logs. */
export const eventTypesOf = (topic: TopicSpec): readonly EventType[] =>
  Array.isArray(topic.carries) ? topic.carries : [];

const eventTopic = (
  name: string,
  description: string,
  carries: readonly EventType[],
  key: KeySpec,
  partitions: number,
): TopicSpec => ({
  name,
  description,
  partitions,
  replicationFactor: 3,
  minInSyncReplicas: 2,
  retentionMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
  // Kafka's default (1 MiB + record overhead); the producer endpoint caps bodies below it.
  maxMessageBytes: 1_048_588,
  carries,
  key,
});

const deadLetterTopic = (source: string): TopicSpec => ({
  name: dlqOf(source),
  description: `Records of ${source} that could not be processed, with the reason.`,
  partitions: 3,
  replicationFactor: 3,
  minInSyncReplicas: 2,
  // Longer than the source so there is time to inspect and re-drive.
  retentionMs: 28 * DAY_MS,
  cleanupPolicy: 'delete',
  // A dead letter holds the original record base64-encoded (4/3 of its size) plus metadata.
  maxMessageBytes: 2 * 1_048_588,
  carries: 'dead_letter',
});

/**
 * The re-drive log of a dead-letter topic (ops/redrive.ts): one record per re-driven dead
 * letter, keyed `<partition>/<offset>`. Compacted, so the latest record of every key is kept for good
 * and `retention.ms` does not apply (it governs the `delete` policy only:
 * https://kafka.apache.org/documentation/#topicconfigs_retention.ms); one partition, as it is small
 * and always read whole. Declared here so the stack creates it and the operator needs no CreateTopic.
 */
const redriveLogTopic = (source: string): TopicSpec => ({
  name: redriveLogOf(dlqOf(source)),
  description: `Which dead letters of ${dlqOf(source)} were re-driven (npm run ops -- redrive).`,
  partitions: 1,
  replicationFactor: 3,
  minInSyncReplicas: 2,
  retentionMs: 28 * DAY_MS,
  cleanupPolicy: 'compact',
  maxMessageBytes: 1_048_588,
  carries: 'redrive_log',
});

const USER_KEY: KeySpec = { prefix: 'user-', field: 'userId' };
const ORDER_KEY: KeySpec = { prefix: 'order-', field: 'orderId' };
const PAYMENT_KEY: KeySpec = { prefix: 'payment-', field: 'paymentId' };

/** Every topic the system uses. */
export const topics: readonly TopicSpec[] = [
  eventTopic(
    'user-events',
    'User account lifecycle.',
    ['user_registered', 'user_updated', 'user_deleted', 'user_login'],
    USER_KEY,
    6,
  ),
  eventTopic(
    'order-events',
    'Order lifecycle, including order_paid/order_refunded derived from payments (keyed by order so they stay in order).',
    ['order_created', 'order_updated', 'order_cancelled', 'order_paid', 'order_refunded'],
    ORDER_KEY,
    6,
  ),
  eventTopic(
    'payment-events',
    'Payment outcomes.',
    ['payment_processed', 'payment_failed', 'payment_refunded'],
    PAYMENT_KEY,
    6,
  ),
  eventTopic(
    'email-events',
    'E-mails to send.',
    ['welcome_email_sent', 'order_confirmation_sent', 'order_cancellation_sent', 'refund_confirmation_sent'],
    USER_KEY,
    3,
  ),
  eventTopic(
    'notification-events',
    'Notifications to push to users.',
    ['profile_updated', 'order_status_changed', 'payment_failure_notified'],
    USER_KEY,
    3,
  ),
  eventTopic('cleanup-events', 'Personal data to erase.', ['user_cleanup'], USER_KEY, 3),
  eventTopic('fulfillment-events', 'Paid orders to ship.', ['fulfillment_requested'], ORDER_KEY, 3),
  deadLetterTopic('user-events'),
  deadLetterTopic('order-events'),
  deadLetterTopic('payment-events'),
  redriveLogTopic('user-events'),
  redriveLogTopic('order-events'),
  redriveLogTopic('payment-events'),
];

/** Settings shared by the three consumers; each overrides what differs. */
const defaultMapping = (
  name: string,
  sourceTopic: string,
  flows: ConsumerSpec['flows'],
): EventSourceMappingSettings => ({
  consumerGroupId: `${name}-v1`,
  // A new consumer reads the topic from its start, so no event written before it existed is missed.
  startingPosition: { type: 'TRIM_HORIZON' },
  batchSize: 100,
  maximumBatchingWindowSeconds: 1,
  maximumRetryAttempts: 5,
  maximumRecordAgeSeconds: 6 * 60 * 60,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  onFailureTopic: dlqOf(sourceTopic),
  // Only the event types this consumer derives something from invoke it.
  filters: [{ pattern: { value: { eventType: Object.keys(flows) } } }],
  provisionedPollers: { minimum: 1, maximum: 3 },
  schemaRegistry: { eventRecordFormat: 'JSON', validateValue: true },
});

const consumer = (
  name: string,
  description: string,
  sourceTopic: string,
  flows: ConsumerSpec['flows'],
): ConsumerSpec => ({
  name,
  entry: `lambdas/consumers/${name.replace(/-consumer$/, '')}.ts`,
  description,
  sourceTopic,
  flows,
  mapping: defaultMapping(name, sourceTopic, flows),
  timeoutSeconds: 30,
  memoryMb: 512,
});

/** Every consumer: its source topic, what it derives, and its event-source mapping. */
export const consumers: readonly ConsumerSpec[] = [
  consumer('user-consumer', 'Welcome e-mails, profile notifications and data clean-up.', 'user-events', {
    user_registered: [{ eventType: 'welcome_email_sent', topic: 'email-events' }],
    user_updated: [{ eventType: 'profile_updated', topic: 'notification-events' }],
    user_deleted: [{ eventType: 'user_cleanup', topic: 'cleanup-events' }],
  }),
  consumer('order-consumer', 'Order e-mails, status notifications and fulfilment.', 'order-events', {
    order_created: [{ eventType: 'order_confirmation_sent', topic: 'email-events' }],
    order_updated: [{ eventType: 'order_status_changed', topic: 'notification-events' }],
    order_cancelled: [{ eventType: 'order_cancellation_sent', topic: 'email-events' }],
    order_paid: [
      { eventType: 'fulfillment_requested', topic: 'fulfillment-events' },
      { eventType: 'order_status_changed', topic: 'notification-events' },
    ],
    order_refunded: [{ eventType: 'refund_confirmation_sent', topic: 'email-events' }],
  }),
  consumer(
    'payment-consumer',
    'Feeds payment outcomes back into orders and notifies failures.',
    'payment-events',
    {
      payment_processed: [{ eventType: 'order_paid', topic: 'order-events' }],
      payment_failed: [{ eventType: 'payment_failure_notified', topic: 'notification-events' }],
      payment_refunded: [{ eventType: 'order_refunded', topic: 'order-events' }],
    },
  ),
];

/**
 * The analytics service: one function that counts every event of the source topics into daily
 * aggregates (lambdas/analytics/), fed by one event-source mapping per source topic, each in its own
 * consumer group, with the other consumers' error controls. No filters: it counts every event type,
 * `user_login` included.
 */
export interface AnalyticsSpec {
  /** Function name (stage-prefixed when deployed). */
  readonly name: 'analytics';
  /** Handler source file (exports `handler`), relative to the project root. */
  readonly entry: string;
  readonly description: string;
  /** One mapping per source topic, named `analytics-<topic>`. */
  readonly sources: readonly { readonly topic: string; readonly mapping: EventSourceMappingSettings }[];
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

/** The daily analytics consumer, on every topic clients post to. */
export const analytics: AnalyticsSpec = {
  name: 'analytics',
  entry: 'lambdas/analytics/handler.ts',
  description: 'Daily counts, revenue and active users, counted exactly once into DynamoDB.',
  sources: ['user-events', 'order-events', 'payment-events'].map((topic) => ({
    topic,
    mapping: {
      ...defaultMapping(`analytics-${topic}`, topic, {}),
      consumerGroupId: `analytics-${topic}-v1`,
      // Every event type is counted.
      filters: [],
    },
  })),
  timeoutSeconds: 30,
  memoryMb: 512,
};

/** The streams clients post to. */
export const streams: readonly StreamSpec[] = [
  {
    name: 'user',
    topic: 'user-events',
    accepts: ['user_registered', 'user_updated', 'user_deleted', 'user_login'],
  },
  { name: 'order', topic: 'order-events', accepts: ['order_created', 'order_updated', 'order_cancelled'] },
  {
    name: 'payment',
    topic: 'payment-events',
    accepts: ['payment_processed', 'payment_failed', 'payment_refunded'],
  },
];

/** The topic spec named `name`, or an error naming it. */
export function topicNamed(name: string): TopicSpec {
  const topic = topics.find((t) => t.name === name);
  if (!topic) throw new TopologyError([`no topic named "${name}"`]);
  return topic;
}

/** Memo of {@link topicOfEvent}: it runs for every record written. */
const topicsOfEvents = new Map<EventType, TopicSpec>();

/** The topic every event of `eventType` is written to. */
export function topicOfEvent(eventType: EventType): TopicSpec {
  let topic = topicsOfEvents.get(eventType);
  if (!topic) {
    topic = topics.find((t) => eventTypesOf(t).includes(eventType));
    if (!topic) throw new TopologyError([`no topic carries "${eventType}"`]);
    topicsOfEvents.set(eventType, topic);
  }
  return topic;
}

/** The topics a consumer writes: its derived topics and its dead-letter topic (for IAM scoping). */
export function topicsWrittenBy(spec: ConsumerSpec): string[] {
  const derived = Object.values(spec.flows).flatMap((ds) => (ds ?? []).map((d) => d.topic));
  return [...new Set([...derived, spec.mapping.onFailureTopic])].sort();
}

/**
 * Topic settings for a cluster of `brokers` brokers: replication and `min.insync.replicas` are
 * clamped so a one-broker local cluster can hold every topic; a full cluster gets the spec as is.
 */
export function topicForCluster(topic: TopicSpec, brokers: number): TopicSpec {
  const replicationFactor = Math.min(topic.replicationFactor, brokers);
  return {
    ...topic,
    replicationFactor,
    minInSyncReplicas: Math.min(topic.minInSyncReplicas, Math.max(1, replicationFactor - 1)),
  };
}

/** The Kafka topic configuration entries of a topic (`retention.ms`, ...), as strings. */
export function topicConfig(topic: TopicSpec): Record<string, string> {
  return {
    'retention.ms': String(topic.retentionMs),
    'cleanup.policy': topic.cleanupPolicy,
    'min.insync.replicas': String(topic.minInSyncReplicas),
    'max.message.bytes': String(topic.maxMessageBytes),
  };
}

/** The topology is inconsistent; lists every problem. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid topology:\n- ${problems.join('\n- ')}`);
  }
}
