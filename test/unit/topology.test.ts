import { describe, expect, it } from 'vitest';
import {
  type ConsumerSpec,
  consumers,
  dlqOf,
  eventTypesOf,
  redriveLogOf,
  streams,
  topicConfig,
  topicForCluster,
  topicNamed,
  topicOfEvent,
  topics,
  topicsWrittenBy,
} from '../../core/topology';
import { topologyProblems } from '../../core/topology-check';
import { EVENT_TYPES, eventSchemas } from '../../schemas/index';

const current = () => ({ topics: [...topics], consumers: [...consumers], streams: [...streams] });
const withConsumer = (name: string, edit: (c: ConsumerSpec) => ConsumerSpec) => {
  const t = current();
  t.consumers = t.consumers.map((c) => (c.name === name ? edit(c) : c));
  return t;
};

describe('topology', () => {
  it('is consistent', () => {
    expect(topologyProblems()).toEqual([]);
  });

  it('has the topics of the reference guide, and a dead-letter topic for every consumed topic', () => {
    const names = topics.map((t) => t.name);
    for (const name of [
      'user-events',
      'order-events',
      'payment-events',
      'email-events',
      'notification-events',
      'cleanup-events',
    ]) {
      expect(names).toContain(name);
    }
    for (const c of consumers) {
      expect(names).toContain(dlqOf(c.sourceTopic));
      expect(c.mapping.onFailureTopic).toBe(dlqOf(c.sourceTopic));
    }
  });

  it('declares a compacted re-drive log for every dead-letter topic, so the stack creates it', () => {
    const dlqs = topics.filter((t) => t.carries === 'dead_letter');
    expect(dlqs.map((t) => t.name).sort()).toEqual(consumers.map((c) => dlqOf(c.sourceTopic)).sort());
    for (const dlq of dlqs) {
      const log = topicNamed(redriveLogOf(dlq.name));
      expect(log.name).toBe(`${dlq.name}.redriven`);
      expect(log).toMatchObject({ carries: 'redrive_log', cleanupPolicy: 'compact', partitions: 1 });
      expect(log.key).toBeUndefined();
      expect(topicConfig(topicForCluster(log, 3))).toMatchObject({
        'cleanup.policy': 'compact',
        'min.insync.replicas': '2',
      });
    }
    // Only those: no event is routed to a re-drive log.
    for (const log of topics.filter((t) => t.carries === 'redrive_log')) {
      expect(dlqs.map((t) => redriveLogOf(t.name))).toContain(log.name);
      expect(eventTypesOf(log)).toEqual([]);
    }
  });

  it('routes every event type to exactly one topic', () => {
    for (const type of EVENT_TYPES) expect(topicOfEvent(type).carries).toContain(type);
  });

  it('keeps dead letters longer than the events they hold', () => {
    for (const c of consumers) {
      expect(topicNamed(dlqOf(c.sourceTopic)).retentionMs).toBeGreaterThan(
        topicNamed(c.sourceTopic).retentionMs,
      );
    }
  });

  it('has the reference guide flows', () => {
    const user = consumers.find((c) => c.name === 'user-consumer');
    expect(user?.flows.user_registered).toEqual([{ eventType: 'welcome_email_sent', topic: 'email-events' }]);
    expect(user?.flows.user_updated).toEqual([
      { eventType: 'profile_updated', topic: 'notification-events' },
    ]);
    expect(user?.flows.user_deleted).toEqual([{ eventType: 'user_cleanup', topic: 'cleanup-events' }]);
  });

  it('filters each mapping to the event types its consumer handles', () => {
    for (const c of consumers) {
      expect(c.mapping.filters).toEqual([{ pattern: { value: { eventType: Object.keys(c.flows) } } }]);
    }
  });

  it('lets each consumer write only its derived topics and its dead-letter topic', () => {
    const user = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;
    expect(topicsWrittenBy(user)).toEqual([
      'cleanup-events',
      'email-events',
      'notification-events',
      'user-events.dlq',
    ]);
    const payment = consumers.find((c) => c.name === 'payment-consumer') as ConsumerSpec;
    expect(topicsWrittenBy(payment)).toEqual(['notification-events', 'order-events', 'payment-events.dlq']);
  });

  it('keys payment-derived order events by order, like the order events they sit among', () => {
    expect(topicOfEvent('order_paid').key).toEqual({ prefix: 'order-', field: 'orderId' });
    expect(eventSchemas.order_paid.properties.data.required).toContain('orderId');
  });

  it('clamps replication to a small cluster and leaves a full one as specified', () => {
    const spec = topicNamed('user-events');
    expect(topicForCluster(spec, 1)).toMatchObject({ replicationFactor: 1, minInSyncReplicas: 1 });
    expect(topicForCluster(spec, 3)).toMatchObject({ replicationFactor: 3, minInSyncReplicas: 2 });
    expect(topicConfig(topicForCluster(spec, 3))).toEqual({
      'retention.ms': String(7 * 24 * 3600 * 1000),
      'cleanup.policy': 'delete',
      'min.insync.replicas': '2',
      'max.message.bytes': '1048588',
    });
  });

  it('names an unknown topic in its error', () => {
    expect(() => topicNamed('nope')).toThrow(/no topic named "nope"/);
  });

  describe('reports', () => {
    it.each([
      {
        why: 'a DLQ that is the source topic',
        t: withConsumer('user-consumer', (c) => ({
          ...c,
          mapping: { ...c.mapping, onFailureTopic: 'user-events' },
        })),
        problem: 'consumer "user-consumer": on-failure topic must differ from the source topic',
      },
      {
        why: 'a batch size above 10,000',
        t: withConsumer('order-consumer', (c) => ({ ...c, mapping: { ...c.mapping, batchSize: 10_001 } })),
        problem: 'consumer "order-consumer": batchSize must be 1–10,000',
      },
      {
        why: 'a record age AWS does not allow',
        t: withConsumer('order-consumer', (c) => ({
          ...c,
          mapping: { ...c.mapping, maximumRecordAgeSeconds: 30 },
        })),
        problem: 'consumer "order-consumer": maximumRecordAgeSeconds must be -1 or 60–604,800',
      },
      {
        why: 'a batching window above 300 s',
        t: withConsumer('order-consumer', (c) => ({
          ...c,
          mapping: { ...c.mapping, maximumBatchingWindowSeconds: 301 },
        })),
        problem: 'consumer "order-consumer": batching window must be 0–300 s',
      },
      {
        why: 'more minimum than maximum pollers',
        t: withConsumer('order-consumer', (c) => ({
          ...c,
          mapping: { ...c.mapping, provisionedPollers: { minimum: 5, maximum: 2 } },
        })),
        problem:
          'consumer "order-consumer": provisioned pollers must be minimum 1–200, maximum 1–2,000, minimum ≤ maximum',
      },
      {
        why: 'a derived event written to a topic that does not carry it',
        t: withConsumer('user-consumer', (c) => ({
          ...c,
          flows: {
            ...c.flows,
            user_registered: [{ eventType: 'welcome_email_sent', topic: 'cleanup-events' }],
          },
        })),
        problem:
          'consumer "user-consumer" derives "welcome_email_sent" into "cleanup-events", which does not carry it',
      },
      {
        why: 'an event handled from a topic that does not carry it',
        t: withConsumer('user-consumer', (c) => ({ ...c, flows: { ...c.flows, order_created: [] } })),
        problem: 'consumer "user-consumer" handles "order_created", which "user-events" does not carry',
      },
    ])('$why', ({ t, problem }) => {
      expect(topologyProblems(t)).toContain(problem);
    });

    it('an event carried by two topics, a duplicate topic and a key the events lack', () => {
      const t = current();
      const email = topicNamed('email-events');
      t.topics = [
        ...t.topics,
        { ...email },
        {
          ...topicNamed('cleanup-events'),
          name: 'audit',
          carries: ['user_login'],
          key: { prefix: 'order-', field: 'orderId' },
        },
      ];
      const problems = topologyProblems(t);
      expect(problems).toContain('topic "email-events" is declared twice');
      expect(problems).toContain('event "user_login" is carried by both "user-events" and "audit"');
      expect(problems).toContain('topic "audit" is keyed by orderId, which "user_login" does not require');
    });

    it('a dead-letter topic without its re-drive log, and a re-drive log that is not compacted', () => {
      const t = current();
      t.topics = t.topics
        .filter((x) => x.name !== 'order-events.dlq.redriven')
        .map((x) => (x.name === 'user-events.dlq.redriven' ? { ...x, cleanupPolicy: 'delete' as const } : x));
      t.topics.push({ ...topicNamed('payment-events.dlq.redriven'), name: 'orphan.dlq.redriven' });
      expect(topologyProblems(t).sort()).toEqual([
        'dead-letter topic "order-events.dlq" has no re-drive log "order-events.dlq.redriven"',
        're-drive log "orphan.dlq.redriven" belongs to no dead-letter topic',
        're-drive log "user-events.dlq.redriven" must be compacted (its marks must outlive retention)',
      ]);
    });

    it('a stream accepting an event its topic does not carry', () => {
      const t = current();
      t.streams = [{ name: 'user', topic: 'user-events', accepts: ['order_created'] }];
      expect(topologyProblems(t)).toEqual([
        'stream "user" accepts "order_created", which "user-events" does not carry',
      ]);
    });
  });
});
