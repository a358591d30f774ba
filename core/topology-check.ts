/**
 * Checks of the topology (core/topology.ts) that synth and the tests run. Apart from core/topology.ts
 * because they read the contracts' schemas, which the functions, importing the topology, need not load.
 */
import { type EventType, eventSchemas } from '../schemas/index';
import {
  type ConsumerSpec,
  consumers,
  type Derivation,
  eventTypesOf,
  redriveLogOf,
  type StreamSpec,
  streams,
  type TopicSpec,
  topics,
} from './topology';

const inRange = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;

/**
 * Checks the invariants everything else relies on; returns the problems found (empty when valid).
 * Bounds are AWS's:
 * - topic names: Kafka's legal characters, at most 249;
 * - BatchSize 1–10,000, MaximumBatchingWindowInSeconds 0–300, MaximumRetryAttempts -1–10,000,
 *   MaximumRecordAgeInSeconds -1 or 60–604,800
 *   (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
 *   https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html);
 * - provisioned pollers: minimum 1–200, maximum 1–2,000, minimum ≤ maximum
 *   (https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html);
 * - the on-failure topic is in the same cluster and is not the source topic
 *   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html).
 * And ours: every dead-letter topic has its compacted re-drive log `<dlq>.redriven`, so the stack
 * creates it and `npm run ops -- redrive` needs no right to create topics.
 */
export function topologyProblems(
  t: { topics: readonly TopicSpec[]; consumers: readonly ConsumerSpec[]; streams: readonly StreamSpec[] } = {
    topics,
    consumers,
    streams,
  },
): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const carrier = new Map<EventType, string>();
  for (const topic of t.topics) {
    if (names.has(topic.name)) problems.push(`topic "${topic.name}" is declared twice`);
    names.add(topic.name);
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic.name))
      problems.push(`topic "${topic.name}" is not a legal Kafka name`);
    if (!inRange(topic.partitions, 1, 1000))
      problems.push(`topic "${topic.name}": partitions must be 1–1000`);
    if (!inRange(topic.replicationFactor, 1, 10))
      problems.push(`topic "${topic.name}": replication factor must be 1–10`);
    if (!inRange(topic.minInSyncReplicas, 1, topic.replicationFactor)) {
      problems.push(`topic "${topic.name}": min.insync.replicas must be 1–replication factor`);
    }
    if (topic.carries === 'dead_letter') {
      if (topic.key) problems.push(`dead-letter topic "${topic.name}" must keep the failed record's key`);
      const log = t.topics.find((x) => x.name === redriveLogOf(topic.name));
      if (log?.carries !== 'redrive_log')
        problems.push(`dead-letter topic "${topic.name}" has no re-drive log "${redriveLogOf(topic.name)}"`);
      continue;
    }
    if (topic.carries === 'redrive_log') {
      if (topic.key) problems.push(`re-drive log "${topic.name}" is keyed by dead letter, not by a key rule`);
      if (topic.cleanupPolicy !== 'compact')
        problems.push(`re-drive log "${topic.name}" must be compacted (its marks must outlive retention)`);
      const dlq = t.topics.find((x) => redriveLogOf(x.name) === topic.name);
      if (dlq?.carries !== 'dead_letter')
        problems.push(`re-drive log "${topic.name}" belongs to no dead-letter topic`);
      continue;
    }
    if (!topic.key) problems.push(`topic "${topic.name}" has no key rule`);
    for (const type of topic.carries) {
      const required: readonly string[] = eventSchemas[type].properties.data.required ?? [];
      if (topic.key && !required.includes(topic.key.field)) {
        problems.push(
          `topic "${topic.name}" is keyed by ${topic.key.field}, which "${type}" does not require`,
        );
      }
      const other = carrier.get(type);
      if (other) problems.push(`event "${type}" is carried by both "${other}" and "${topic.name}"`);
      carrier.set(type, topic.name);
    }
  }
  const topicOf = (name: string) => t.topics.find((x) => x.name === name);
  for (const c of t.consumers) {
    const where = `consumer "${c.name}"`;
    const source = topicOf(c.sourceTopic);
    if (!source) problems.push(`${where} reads unknown topic "${c.sourceTopic}"`);
    for (const [type, derivations] of Object.entries(c.flows) as [EventType, readonly Derivation[]][]) {
      if (source && !eventTypesOf(source).includes(type)) {
        problems.push(`${where} handles "${type}", which "${c.sourceTopic}" does not carry`);
      }
      for (const d of derivations) {
        const target = topicOf(d.topic);
        if (!target) problems.push(`${where} derives "${d.eventType}" into unknown topic "${d.topic}"`);
        else if (!eventTypesOf(target).includes(d.eventType)) {
          problems.push(`${where} derives "${d.eventType}" into "${d.topic}", which does not carry it`);
        }
      }
    }
    const m = c.mapping;
    const dlq = topicOf(m.onFailureTopic);
    if (!dlq) problems.push(`${where}: on-failure topic "${m.onFailureTopic}" does not exist`);
    else if (dlq.carries !== 'dead_letter')
      problems.push(`${where}: on-failure topic "${m.onFailureTopic}" is not a dead-letter topic`);
    if (m.onFailureTopic === c.sourceTopic)
      problems.push(`${where}: on-failure topic must differ from the source topic`);
    if (!/^[a-zA-Z0-9._-]{1,200}$/.test(m.consumerGroupId))
      problems.push(`${where}: invalid consumer group id`);
    if (!inRange(m.batchSize, 1, 10_000)) problems.push(`${where}: batchSize must be 1–10,000`);
    if (!inRange(m.maximumBatchingWindowSeconds, 0, 300))
      problems.push(`${where}: batching window must be 0–300 s`);
    if (!inRange(m.maximumRetryAttempts, -1, 10_000))
      problems.push(`${where}: maximumRetryAttempts must be -1–10,000`);
    if (m.maximumRecordAgeSeconds !== -1 && !inRange(m.maximumRecordAgeSeconds, 60, 604_800)) {
      problems.push(`${where}: maximumRecordAgeSeconds must be -1 or 60–604,800`);
    }
    const p = m.provisionedPollers;
    if (!inRange(p.minimum, 1, 200) || !inRange(p.maximum, 1, 2000) || p.minimum > p.maximum) {
      problems.push(
        `${where}: provisioned pollers must be minimum 1–200, maximum 1–2,000, minimum ≤ maximum`,
      );
    }
    if (
      m.startingPosition.type === 'AT_TIMESTAMP' &&
      Number.isNaN(Date.parse(m.startingPosition.timestamp))
    ) {
      problems.push(`${where}: AT_TIMESTAMP needs a valid timestamp`);
    }
    if (!inRange(c.timeoutSeconds, 1, 900)) problems.push(`${where}: timeout must be 1–900 s`);
    if (!inRange(c.memoryMb, 128, 10_240)) problems.push(`${where}: memory must be 128–10,240 MB`);
  }
  if (new Set(t.consumers.map((c) => c.mapping.consumerGroupId)).size !== t.consumers.length) {
    problems.push('consumer group ids must be unique');
  }
  for (const s of t.streams) {
    const topic = topicOf(s.topic);
    if (!topic || !Array.isArray(topic.carries))
      problems.push(`stream "${s.name}" writes to unknown topic "${s.topic}"`);
    else {
      for (const type of s.accepts) {
        if (!eventTypesOf(topic).includes(type))
          problems.push(`stream "${s.name}" accepts "${type}", which "${s.topic}" does not carry`);
      }
    }
  }
  return problems;
}
