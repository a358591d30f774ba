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
 * It is the onEvent handler of CDK's provider framework (`custom_resources.Provider`): it returns
 * `{ PhysicalResourceId, Data }` or throws, and the framework's function answers CloudFormation on the
 * pre-signed `ResponseURL`, with the error's message as the reason of a failure; a hung broker ends in
 * this function's timeout, which the framework reports as a failure too, so the deployment fails
 * instead of stalling for an hour ("return data for success, or throw an exception for failure. Do not
 * post the success or failure of your custom resource to an HTTPS URL",
 * https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#provider-framework).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { type KafkaSettings, readEnvironment } from '../../core/env';
import type { KafkaTopicsProperties, TopicSettings } from '../../core/topic-resource';
import { type TopicSpec, topicConfig, topicForCluster } from '../../core/topology';

export type { KafkaTopicsProperties, TopicSettings } from '../../core/topic-resource';

import { type KafkaAdmin as Admin, createKafka } from '../shared/kafka';
import { ensureTopics } from '../shared/topics';

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

/**
 * What the onEvent handler returns to the provider framework, which answers CloudFormation with it
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#handling-lifecycle-events-onevent).
 */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string>;
}

/** The error the framework reports as the resource's failure reason (CloudFormation shows it). */
const failure = (reason: string) => new Error(reason.slice(0, 1000));

/**
 * Handles one custom resource event: returns the physical id and the data on success, throws (the
 * reason as the message) on failure; a Delete that cannot reach the cluster succeeds.
 */
export async function handleEvent(
  event: CloudFormationCustomResourceEvent,
  deps: KafkaTopicsDeps,
): Promise<OnEventResponse> {
  const props = event.ResourceProperties as unknown as KafkaTopicsProperties;
  const PhysicalResourceId = physicalIdOf(event);
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
      return { PhysicalResourceId, Data: { Deleted: deleted.join(',') } };
    }
    return { PhysicalResourceId, Data: await applyTopics(admin, topics, deps.log) };
  } catch (error) {
    const reason = (error as Error).message ?? String(error);
    deps.log(`${event.RequestType} failed`, { error: reason });
    // The cluster goes with the stack: topics that cannot be deleted must not keep the stack alive.
    if (event.RequestType === 'Delete')
      return {
        PhysicalResourceId,
        Data: { Deleted: '', NotDeleted: `topics not deleted: ${reason}`.slice(0, 1000) },
      };
    throw failure(reason);
  } finally {
    await admin?.disconnect().catch(() => {});
  }
}

const log: KafkaTopicsDeps['log'] = (message, details) =>
  console.log(JSON.stringify({ level: 'INFO', message, ...details }));

/**
 * The onEvent handler of the provider framework (lib/constructs/kafka-admin-topics.ts): the framework
 * invokes it synchronously, answers CloudFormation on the response URL, and reports a thrown error,
 * or this function's timeout, as the resource's failure.
 */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  log('event', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  const response = await handleEvent(event, {
    admin: (settings) => createKafka(settings).admin(),
    log,
  });
  log('response', { ...response });
  return response;
}
