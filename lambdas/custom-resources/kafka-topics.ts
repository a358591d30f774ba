/**
 * CloudFormation custom resource `Custom::KafkaTopics`: the topology's topics, created with a Kafka
 * admin client, for a deployment target without AWS::MSK::Topic (lib/target.ts; the construct is
 * lib/constructs/kafka-admin-topics.ts). It runs in the VPC, next to the functions, and reaches the
 * brokers the way they do: the bootstrap brokers and the auth mode (`iam` or `plaintext`) are resource
 * properties, read with the functions' own readEnvironment and createKafka.
 *
 * - Create and Update: every missing topic is created (`ensureTopics`, lambdas/shared/topics.ts, the same
 *   code `npm start` creates the local topics with: replication factors clamped to the brokers the
 *   cluster has). Topics that exist keep their data: a topic with fewer partitions than the topology
 *   gets more (Kafka cannot remove partitions, so a topic with more fails the update, as
 *   AWS::MSK::Topic would), and every topic's configuration (retention, cleanup policy,
 *   min.insync.replicas, max.message.bytes) is set to the topology's. Running it twice changes nothing.
 *   Topics removed from the topology are left alone, as retained AWS::MSK::Topic resources are.
 * - Delete: CloudFormation only sends it when the resource's removal policy is DESTROY
 *   (`destroyOnRemoval=true`; the default RETAIN keeps the resource, and the topics, out of the
 *   deletion); the topics are deleted then. A cluster that cannot be reached does not block the
 *   deletion: it is being deleted with the same stack.
 *
 * The response goes to the pre-signed `ResponseURL` (the custom resource protocol,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html), before the
 * function's own timeout, so a hung broker fails the deployment instead of stalling it for an hour.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { type KafkaSettings, readEnvironment } from '../../core/env';
import type { KafkaTopicsProperties, TopicSettings } from '../../core/topic-resource';
import { type TopicSpec, topicConfig, topicForCluster } from '../../core/topology';

export type { KafkaTopicsProperties, TopicSettings } from '../../core/topic-resource';

import { type KafkaAdmin as Admin, createKafka } from '../shared/kafka';
import { ensureTopics } from '../shared/topics';

/** The response document CloudFormation expects. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** The admin operations the resource uses (a kafkajs Admin has them all). */
export type TopicsAdmin = Pick<
  Admin,
  | 'connect'
  | 'disconnect'
  | 'describeCluster'
  | 'listTopics'
  | 'createTopics'
  | 'fetchTopicMetadata'
  | 'createPartitions'
  | 'alterConfigs'
  | 'deleteTopics'
>;

export interface KafkaTopicsDeps {
  /** An admin client of the cluster `settings` describes, not yet connected. */
  admin(settings: KafkaSettings): TopicsAdmin;
  log(message: string, details?: Record<string, unknown>): void;
}

/** kafkajs `ConfigResourceTypes.TOPIC` (the Kafka protocol's resource type 2). */
const TOPIC_RESOURCE_TYPE = 2;

/** Reads the topic settings property, or throws naming what is wrong. */
export function parseTopics(json: string): TopicSettings[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('the Topics property is not JSON');
  }
  if (!Array.isArray(parsed)) throw new Error('the Topics property must be a JSON array');
  for (const t of parsed as Partial<TopicSettings>[]) {
    const numbers = [
      'partitions',
      'replicationFactor',
      'minInSyncReplicas',
      'retentionMs',
      'maxMessageBytes',
    ];
    if (typeof t?.name !== 'string' || !numbers.every((k) => Number.isInteger(t[k as keyof TopicSettings])))
      throw new Error(`the Topics property holds an invalid topic: ${JSON.stringify(t)}`);
  }
  return parsed as TopicSettings[];
}

/** A full TopicSpec for the topology helpers (description and contents do not matter to Kafka). */
const asSpec = (t: TopicSettings): TopicSpec => ({ ...t, description: '', carries: [] });

/** Creates or updates the topics; returns what it did. */
export async function applyTopics(
  admin: TopicsAdmin,
  topics: readonly TopicSettings[],
  log: KafkaTopicsDeps['log'],
): Promise<Record<string, string>> {
  const specs = topics.map(asSpec);
  const result = await ensureTopics(admin as Admin, specs);
  log('topics ensured', { created: result.created, existing: result.existing });

  const grow = result.mismatched.filter((m) => m.expected > m.partitions);
  const shrink = result.mismatched.filter((m) => m.expected < m.partitions);
  if (shrink.length > 0)
    throw new Error(
      `Kafka cannot remove partitions: ${shrink.map((m) => `${m.topic} has ${m.partitions}, the topology says ${m.expected}`).join('; ')}`,
    );
  if (grow.length > 0) {
    await admin.createPartitions({
      topicPartitions: grow.map((m) => ({ topic: m.topic, count: m.expected })),
    });
    log('partitions added', { topics: grow });
  }

  const existing = specs.filter((s) => result.existing.includes(s.name));
  if (existing.length > 0) {
    const { brokers } = await admin.describeCluster();
    await admin.alterConfigs({
      validateOnly: false,
      resources: existing.map((s) => ({
        type: TOPIC_RESOURCE_TYPE,
        name: s.name,
        configEntries: Object.entries(topicConfig(topicForCluster(s, brokers.length))).map(
          ([name, value]) => ({ name, value }),
        ),
      })),
    });
  }
  return {
    Created: result.created.join(','),
    Existing: result.existing.join(','),
    PartitionsAdded: grow.map((m) => m.topic).join(','),
  };
}

/** Deletes the topics that exist; returns their names. */
export async function deleteTopics(admin: TopicsAdmin, topics: readonly TopicSettings[]): Promise<string[]> {
  const present = new Set(await admin.listTopics());
  const names = topics.map((t) => t.name).filter((n) => present.has(n));
  if (names.length > 0) await admin.deleteTopics({ topics: names, timeout: 30_000 });
  return names;
}

/** The physical id: one per cluster (a new cluster is a new set of topics); Delete keeps the old one. */
export function physicalIdOf(event: CloudFormationCustomResourceEvent): string {
  if (event.RequestType === 'Delete') return event.PhysicalResourceId;
  return `kafka-topics:${(event.ResourceProperties as unknown as KafkaTopicsProperties).ClusterArn}`;
}

/** Handles one custom resource event and returns the response to send; never throws. */
export async function handleEvent(
  event: CloudFormationCustomResourceEvent,
  deps: KafkaTopicsDeps,
): Promise<CustomResourceResponse> {
  const props = event.ResourceProperties as unknown as KafkaTopicsProperties;
  const base = {
    PhysicalResourceId: physicalIdOf(event),
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let admin: TopicsAdmin | undefined;
  try {
    const topics = parseTopics(props.Topics);
    // The functions' own checks: brokers as host:port, auth iam or plaintext, a region for IAM.
    const { kafka } = readEnvironment({
      KAFKA_BROKERS: props.Brokers,
      KAFKA_AUTH: props.KafkaAuth,
      AWS_REGION: process.env.AWS_REGION,
      AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'kafka-topics',
    });
    admin = deps.admin(kafka);
    await admin.connect();
    if (event.RequestType === 'Delete') {
      const deleted = await deleteTopics(admin, topics);
      deps.log('topics deleted', { topics: deleted });
      return { ...base, Status: 'SUCCESS', Data: { Deleted: deleted.join(',') } };
    }
    return { ...base, Status: 'SUCCESS', Data: await applyTopics(admin, topics, deps.log) };
  } catch (error) {
    const reason = (error as Error).message ?? String(error);
    deps.log(`${event.RequestType} failed`, { error: reason });
    // The cluster goes with the stack: topics that cannot be deleted must not keep the stack alive.
    if (event.RequestType === 'Delete')
      return { ...base, Status: 'SUCCESS', Reason: `topics not deleted: ${reason}`.slice(0, 1000) };
    return { ...base, Status: 'FAILED', Reason: reason.slice(0, 1000) };
  } finally {
    await admin?.disconnect().catch(() => {});
  }
}

/** PUTs the response to CloudFormation's pre-signed URL (no content type: it is not signed). */
export function sendResponse(url: string, response: CustomResourceResponse): Promise<void> {
  const body = Buffer.from(JSON.stringify(response), 'utf8');
  const target = new URL(url);
  const request = target.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 500) < 300
            ? resolve()
            : reject(new Error(`the response URL answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const log: KafkaTopicsDeps['log'] = (message, details) =>
  console.log(JSON.stringify({ level: 'INFO', message, ...details }));

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  log('event', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  const base = {
    PhysicalResourceId: physicalIdOf(event),
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  // Answer before Lambda ends the invocation, whatever the brokers do.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CustomResourceResponse>((resolve) => {
    timer = setTimeout(
      () => resolve({ ...base, Status: 'FAILED', Reason: 'the Kafka cluster did not answer in time' }),
      Math.max(1_000, context.getRemainingTimeInMillis() - 10_000),
    );
  });
  const response = await Promise.race([
    handleEvent(event, { admin: (settings) => createKafka(settings).admin(), log }),
    deadline,
  ]);
  clearTimeout(timer);
  log('response', { status: response.Status, reason: response.Reason, data: response.Data });
  await sendResponse(event.ResponseURL, response);
}
