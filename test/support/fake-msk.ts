/**
 * Stand-ins for the AWS calls the operator tools make to find a cluster (ops/discover.ts).
 *
 * Not moto: moto (5.2.5, .venv) serves Kafka's cluster APIs but not GetBootstrapBrokers (its
 * moto/kafka/urls.py has no `/v1/clusters/{arn}/bootstrap-brokers` route), and the CloudFormation
 * client is not a dependency of this project yet. So the Kafka client is the real
 * @aws-sdk/client-kafka with only its HTTP handler replaced: the SDK builds, signs and sends the real
 * request and parses the answer with its own deserializer, and the answer is the wire form the MSK
 * API reference gives (GET /v1/clusters/{clusterArn}/bootstrap-brokers → 200 with
 * `{"bootstrapBrokerStringSaslIam": ...}`, 404 with `x-amzn-errortype: NotFoundException`;
 * https://docs.aws.amazon.com/msk/1.0/apireference/clusters-clusterarn-bootstrap-brokers.html).
 * DescribeStacks is given as the outputs it returns.
 */
import { KafkaClient } from '@aws-sdk/client-kafka';
import type { DiscoveryClients, StackOutput } from '../../ops/discover';

/** A request as the SDK sent it. */
export interface SentRequest {
  readonly method: string;
  readonly hostname: string;
  readonly path: string;
  readonly region: string;
}

/** An HTTP answer of the MSK API. */
export interface MskAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** GetBootstrapBrokers' 200 answer, fields in their wire (JSON) names. */
export const bootstrapAnswer = (fields: Record<string, string>): MskAnswer => ({ status: 200, body: fields });

/** MSK's 404 for a cluster it does not have. */
export const notFoundAnswer = (message: string): MskAnswer => ({
  status: 404,
  headers: { 'x-amzn-errortype': 'NotFoundException' },
  body: { message },
});

export interface FakeAws extends DiscoveryClients {
  /** Every GetBootstrapBrokers request, in order. */
  readonly requests: SentRequest[];
  /** Every stack whose outputs were asked for, with the region. */
  readonly stacksAsked: { stackName: string; region: string }[];
}

/**
 * Discovery clients answering `msk` to every Kafka request and `stacks[name]` to DescribeStacks
 * (absent: the stack does not exist).
 */
export function fakeAws(
  msk: MskAnswer,
  stacks: Record<string, readonly StackOutput[]> = {},
  describeError?: Error,
): FakeAws {
  const requests: SentRequest[] = [];
  const stacksAsked: { stackName: string; region: string }[] = [];
  return {
    requests,
    stacksAsked,
    kafka: (region) =>
      new KafkaClient({
        region,
        // Fixed test credentials so that nothing reads the shell's: the request is signed, never sent.
        credentials: { accessKeyId: 'AKIDFAKEFORTESTS', secretAccessKey: 'fake-secret-for-tests' },
        maxAttempts: 1,
        requestHandler: {
          handle: async (request: { method: string; hostname: string; path: string }) => {
            requests.push({ method: request.method, hostname: request.hostname, path: request.path, region });
            return {
              response: {
                statusCode: msk.status,
                headers: { 'content-type': 'application/json', ...msk.headers },
                body: new TextEncoder().encode(JSON.stringify(msk.body)),
              },
            };
          },
        },
      }),
    stackOutputs: async (stackName, region) => {
      stacksAsked.push({ stackName, region });
      if (describeError) throw describeError;
      return stacks[stackName];
    },
  };
}
