/**
 * Where the operator tools find the cluster. In order:
 *
 * 1. `KAFKA_BROKERS` — an override: those brokers, nothing is looked up.
 * 2. `--cluster-arn <arn>` (or `OPS_CLUSTER_ARN`) — the MSK cluster: its brokers come from Kafka
 *    GetBootstrapBrokers.
 * 3. `--stage <stage>` (or `OPS_STAGE`) — the deployment: the `ClusterArn` output of its platform
 *    stack `<stage>-kafka` (lib/stacks/app.ts, lib/stacks/kafka-stack.ts), read with CloudFormation
 *    DescribeStacks, then as 2.
 * 4. Nothing — the embedded broker of `npm start` (`DEFAULT_BROKERS` in ./clients.ts).
 *
 * With 2 and 3 the client authentication is IAM unless `KAFKA_AUTH=plaintext` says otherwise (a
 * LocalStack cluster has no IAM listener: lib/target.ts), and the listener is the one of that
 * authentication: `BootstrapBrokerStringSaslIam` (SASL/IAM over TLS, port 9098) or
 * `BootstrapBrokerString` (plaintext), as lib/constructs/bootstrap-brokers.ts gives the functions.
 * GetBootstrapBrokers: https://docs.aws.amazon.com/msk/1.0/apireference/clusters-clusterarn-bootstrap-brokers.html
 * (GET /v1/clusters/{clusterArn}/bootstrap-brokers; 404 when the cluster does not exist) and
 * https://docs.aws.amazon.com/msk/latest/developerguide/msk-get-bootstrap-brokers.html. The call
 * needs `kafka:GetBootstrapBrokers`, and step 3 `cloudformation:DescribeStacks` on the stack.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetBootstrapBrokersCommand,
  type GetBootstrapBrokersResponse,
  KafkaClient,
} from '@aws-sdk/client-kafka';
import type { KafkaSettings } from '../core/env';
import { OpsError, opsSettings, UsageError } from './clients';

/** The platform stack of a stage, as lib/stacks/app.ts names it. */
export const kafkaStackName = (stage: string): string => `${stage}-kafka`;

/** The output of the platform stack that holds the cluster ARN (lib/stacks/kafka-stack.ts). */
export const CLUSTER_ARN_OUTPUT = 'ClusterArn';

/** Stage names as lib/config.ts accepts them. */
const STAGE = /^[a-z][a-z0-9-]{1,20}$/;

/**
 * An MSK provisioned cluster's ARN: `arn:${Partition}:kafka:${Region}:${Account}:cluster/${ClusterName}/${ClusterUuid}`
 * (Service Authorization Reference, resource type "cluster":
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedstreamingforapachekafka.html).
 */
const CLUSTER_ARN = /^arn:(aws[a-z-]*):kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/\s]+)$/;

/** What the command line and the environment point at. */
export type OpsTarget =
  | { readonly kind: 'brokers' }
  | { readonly kind: 'cluster'; readonly clusterArn: string; readonly auth: 'iam' | 'plaintext' }
  | {
      readonly kind: 'stage';
      readonly stage: string;
      readonly region: string;
      readonly auth: 'iam' | 'plaintext';
    };

export interface TargetOptions {
  readonly stage?: string;
  readonly clusterArn?: string;
}

/**
 * Checks the command line and environment (no call yet): a bad stage name, a string that is not a
 * cluster ARN or a missing region is a {@link UsageError} here, before anything is asked of AWS.
 */
export function opsTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): OpsTarget {
  const stage = options.stage ?? (env.OPS_STAGE?.trim() || undefined);
  const clusterArn = options.clusterArn ?? (env.OPS_CLUSTER_ARN?.trim() || undefined);
  if (env.KAFKA_BROKERS?.trim()) return { kind: 'brokers' };
  if (stage === undefined && clusterArn === undefined) return { kind: 'brokers' };
  if (stage !== undefined && clusterArn !== undefined) {
    throw new UsageError(
      `give the stage (--stage, OPS_STAGE) or the cluster (--cluster-arn, OPS_CLUSTER_ARN), not both: ${stage}, ${clusterArn}`,
    );
  }
  const rawAuth = env.KAFKA_AUTH?.trim().toLowerCase() || 'iam';
  if (rawAuth !== 'iam' && rawAuth !== 'plaintext')
    throw new UsageError(`KAFKA_AUTH must be "iam" or "plaintext", not "${env.KAFKA_AUTH}"`);
  const auth = rawAuth;
  if (clusterArn !== undefined) {
    if (!CLUSTER_ARN.test(clusterArn)) {
      throw new UsageError(
        `--cluster-arn "${clusterArn}" is not an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)`,
      );
    }
    return { kind: 'cluster', clusterArn, auth };
  }
  const name = stage as string;
  if (!STAGE.test(name))
    throw new UsageError(
      `--stage "${name}" is not a stage name (2–21 lowercase letters, digits or dashes, starting with a letter)`,
    );
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) {
    throw new UsageError(
      `--stage ${name} needs AWS_REGION: the region the stack ${kafkaStackName(name)} is deployed in`,
    );
  }
  return { kind: 'stage', stage: name, region, auth };
}

/** `KAFKA_AUTH` as the target implies it: IAM on a discovered cluster unless told otherwise. */
export function targetEnvironment(target: OpsTarget, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return target.kind === 'brokers' ? env : { ...env, KAFKA_AUTH: target.auth };
}

/** One output of a stack, as CloudFormation DescribeStacks returns it. */
export interface StackOutput {
  readonly OutputKey?: string;
  readonly OutputValue?: string;
}

/**
 * The AWS calls discovery makes; tests give their own. `stackOutputs` returns `undefined` when the
 * stack does not exist.
 */
export interface DiscoveryClients {
  kafka(region: string): KafkaClient;
  stackOutputs(stackName: string, region: string): Promise<readonly StackOutput[] | undefined>;
}

/** The region of a cluster ARN checked by {@link opsTarget}. */
const regionOf = (clusterArn: string): string => CLUSTER_ARN.exec(clusterArn)?.[2] ?? '';

/** The Kafka settings of the target: brokers looked up when it is a cluster or a stage. */
export async function resolveSettings(
  target: OpsTarget,
  env: NodeJS.ProcessEnv = process.env,
  clients: DiscoveryClients = awsClients,
): Promise<KafkaSettings> {
  if (target.kind === 'brokers') return opsSettings(env);
  const clusterArn = target.kind === 'cluster' ? target.clusterArn : await stackClusterArn(target, clients);
  // The cluster's own region: GetBootstrapBrokers must be asked there, and IAM tokens signed for it.
  const region = regionOf(clusterArn);
  const brokers = await bootstrapBrokers(clients.kafka(region), clusterArn, target.auth);
  return opsSettings({ ...env, KAFKA_BROKERS: brokers, KAFKA_AUTH: target.auth, AWS_REGION: region });
}

/** The `ClusterArn` output of the stage's platform stack. */
async function stackClusterArn(
  target: Extract<OpsTarget, { kind: 'stage' }>,
  clients: DiscoveryClients,
): Promise<string> {
  const stackName = kafkaStackName(target.stage);
  let outputs: readonly StackOutput[] | undefined;
  try {
    outputs = await clients.stackOutputs(stackName, target.region);
  } catch (error) {
    if (error instanceof OpsError) throw error;
    const e = error as Error;
    throw new OpsError(
      `cannot read the stack ${stackName} in ${target.region} (CloudFormation DescribeStacks): ${e.name}: ${e.message}`,
      1,
      { cause: error },
    );
  }
  if (outputs === undefined) {
    throw new OpsError(
      `no stack ${stackName} in ${target.region}: deploy stage ${target.stage} (npm run deploy -- -c stage=${target.stage}) or set AWS_REGION to the region it is in`,
    );
  }
  const arn = outputs.find((o) => o.OutputKey === CLUSTER_ARN_OUTPUT)?.OutputValue;
  if (!arn) {
    const keys = outputs.map((o) => o.OutputKey).filter(Boolean);
    throw new OpsError(
      `the stack ${stackName} in ${target.region} has no output ${CLUSTER_ARN_OUTPUT} (${keys.length ? `its outputs: ${keys.join(', ')}` : 'it has no outputs'}); is it still being created?`,
    );
  }
  if (!CLUSTER_ARN.test(arn))
    throw new OpsError(
      `the output ${CLUSTER_ARN_OUTPUT} of ${stackName} is not an MSK cluster ARN: "${arn}"`,
    );
  return arn;
}

/** The GetBootstrapBrokers field of each client authentication (lib/constructs/bootstrap-brokers.ts). */
const LISTENER = {
  iam: 'BootstrapBrokerStringSaslIam',
  plaintext: 'BootstrapBrokerString',
} as const satisfies Record<'iam' | 'plaintext', keyof GetBootstrapBrokersResponse>;

/** `host:port,host:port` of the cluster's listener for `auth`. */
async function bootstrapBrokers(
  client: KafkaClient,
  clusterArn: string,
  auth: 'iam' | 'plaintext',
): Promise<string> {
  let response: GetBootstrapBrokersResponse;
  try {
    response = await client.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  } catch (error) {
    const e = error as Error;
    if (e.name === 'NotFoundException')
      throw new OpsError(`no MSK cluster ${clusterArn} (Kafka GetBootstrapBrokers: ${e.message})`, 1, {
        cause: error,
      });
    throw new OpsError(
      `cannot get the bootstrap brokers of ${clusterArn} (Kafka GetBootstrapBrokers): ${e.name}: ${e.message}`,
      1,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
  const field = LISTENER[auth];
  const brokers = response[field]?.trim();
  if (!brokers) {
    const present = Object.entries(response)
      .filter(([k, v]) => k.startsWith('BootstrapBroker') && typeof v === 'string' && v)
      .map(([k]) => k);
    const what = auth === 'iam' ? 'no IAM listener' : 'no plaintext listener';
    throw new OpsError(
      `the cluster ${clusterArn} has ${what}: GetBootstrapBrokers returned no ${field} (${present.length ? `only ${present.join(', ')}` : 'no brokers at all'})${auth === 'iam' ? '; its client authentication must enable IAM, or set KAFKA_AUTH=plaintext for an unauthenticated cluster' : ''}`,
    );
  }
  return brokers;
}

/**
 * DescribeStacks of one stack (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html):
 * "If the stack doesn't exist, a ValidationError is returned", with the message
 * `Stack with id <name> does not exist`.
 */
async function describeStackOutputs(
  stackName: string,
  region: string,
): Promise<readonly StackOutput[] | undefined> {
  const client = new CloudFormationClient({ region });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return Stacks?.[0] ? (Stacks[0].Outputs ?? []) : undefined;
  } catch (error) {
    const e = error as Error;
    if (e.name === 'ValidationError' && /does not exist/.test(e.message)) return undefined;
    throw error;
  } finally {
    client.destroy();
  }
}

/** The real AWS clients, configured from the shell as the AWS CLI is (credentials, endpoints). */
const awsClients: DiscoveryClients = {
  kafka: (region) => new KafkaClient({ region }),
  stackOutputs: describeStackOutputs,
};
