/**
 * The smoke run's logic against recorded answers. The Lambda, CloudWatch Logs and CloudFormation
 * answers are shaped like the documented ones:
 * - GetFunctionConfiguration: https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html
 *   (FunctionConfiguration: State, LastUpdateStatus, Environment.Variables, LoggingConfig.LogGroup); a
 *   missing function is a 404 ResourceNotFoundException ("Function not found: <arn>").
 * - ListEventSourceMappings: https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html,
 *   the mapping as LocalStack's MSK page shows one (https://docs.localstack.cloud/aws/services/msk/,
 *   "Adding a local MSK trigger": State "Enabled", StateTransitionReason "User action",
 *   LastProcessingResult "OK"); a failing one with a `PROBLEM: ...` result as in AWS's Kafka
 *   troubleshooting (https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-troubleshoot.html).
 * - FilterLogEvents: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 *   (events: logStreamName, timestamp, message, ingestionTime, eventId).
 * - DescribeStackEvents: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html
 *   (StackEvents newest first: LogicalResourceId, ResourceType, ResourceStatus, ResourceStatusReason).
 */
import { describe, expect, it } from 'vitest';
import {
  type EventSourceMapping,
  type FunctionConfiguration,
  kafkaFunctionNames,
  localstackApiUrl,
  runSmoke,
  type SmokeIo,
  type StackEvent,
} from '../../scripts/localstack/smoke';
import { recordedPosts, recordedReads } from '../fixtures/localstack/recorded';

const RUN = 'smoke-test';
const poisonKey = Buffer.from(`user-${RUN}-poison`).toString('base64');
const BROKERS = 'localhost.localstack.cloud:4511';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** GetFunctionConfiguration of a deployed function. */
const configuration = (name: string): FunctionConfiguration =>
  ({
    FunctionName: name,
    FunctionArn: `${ARN}:${name}`,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    State: 'Active',
    LastUpdateStatus: 'Successful',
    Architectures: ['x86_64'],
    Environment: { Variables: { KAFKA_BROKERS: BROKERS, KAFKA_AUTH: 'plaintext' } },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `dev-events-${name}Logs1A2B3C4D-AbCdEfGh` },
  }) as FunctionConfiguration;

class ResourceNotFoundException extends Error {
  override readonly name = 'ResourceNotFoundException';
}

interface Recorded {
  configurations?: Record<string, FunctionConfiguration | undefined>;
  mappings?: Record<string, EventSourceMapping[]>;
  logs?: Record<string, { timestamp: number; message: string }[]>;
  stackEvents?: Record<string, StackEvent[] | undefined>;
}

function io(reads: { topic: string; json: unknown }[][], posts = recordedPosts, recorded: Recorded = {}) {
  const log: string[] = [];
  const written: { topic: string; key: string }[] = [];
  let poll = 0;
  const fake: SmokeIo = {
    post: async (path) => posts[path] ?? { status: 404, body: {} },
    writeRaw: async (topic, key) => {
      written.push({ topic, key });
    },
    read: async () => reads[Math.min(poll++, reads.length - 1)] ?? [],
    sleep: async () => {},
    log: (line) => log.push(line),
    getFunctionConfiguration: async (name) => {
      const found =
        recorded.configurations && name in recorded.configurations
          ? recorded.configurations[name]
          : configuration(name);
      if (!found) throw new ResourceNotFoundException(`Function not found: ${ARN}:${name}`);
      return found;
    },
    listEventSourceMappings: async (name) => ({ EventSourceMappings: recorded.mappings?.[name] ?? [] }),
    filterLogEvents: async (group) => ({
      events: (recorded.logs?.[group] ?? []).map((e, i) => ({
        logStreamName: '2026/11/30/[$LATEST]0a1b2c3d4e5f',
        ingestionTime: e.timestamp + 5,
        eventId: String(i),
        ...e,
      })),
    }),
    describeStackEvents: async (stack) => {
      const events = recorded.stackEvents?.[stack];
      if (!events) {
        const error = new Error(`Stack with id ${stack} does not exist`);
        error.name = 'ValidationError';
        throw error;
      }
      return { StackEvents: events };
    },
  };
  return { fake, log, written, polls: () => poll };
}

const logGroupOf = (name: string) => configuration(name).LoggingConfig?.LogGroup as string;

describe('LocalStack smoke run (recorded responses)', () => {
  it('passes once every derived event and the poison record’s dead letter are seen', async () => {
    const { fake, log, written, polls } = io(recordedReads(RUN, poisonKey));
    const result = await runSmoke(fake, { run: RUN, timeoutMs: 60_000 });
    expect(result).toMatchObject({ ok: true, derivedMissing: [], deadLetterSeen: true });
    expect(result.posted.map((p) => `${p.stream}:${p.eventType}:${p.status}`)).toEqual([
      'user:user_registered:202',
      'order:order_created:202',
      'payment:payment_processed:202',
    ]);
    expect(written).toEqual([{ topic: 'user-events', key: `user-${RUN}-poison` }]);
    expect(polls()).toBe(2);
    expect(log.filter((l) => l.startsWith('saw'))).toHaveLength(4);
    expect(result.failedStep).toBeUndefined();
    expect(result.evidence).toEqual([]);
  });

  it('prints the broker address each Kafka-fed function got, from its configuration', async () => {
    const { fake, log } = io(recordedReads(RUN, poisonKey));
    const result = await runSmoke(fake, { run: RUN, timeoutMs: 60_000 });
    expect(Object.keys(result.brokers)).toEqual(kafkaFunctionNames('dev'));
    expect(new Set(Object.values(result.brokers))).toEqual(new Set([BROKERS]));
    expect(log).toContain(`dev-producer: KAFKA_BROKERS=${BROKERS}`);
  });

  it('stops at the functions step with the stacks’ failed events when a function is missing', async () => {
    const { fake, log, written } = io(recordedReads(RUN, poisonKey), recordedPosts, {
      configurations: { 'dev-user-consumer': undefined },
      stackEvents: {
        'dev-events': [
          {
            StackName: 'dev-events',
            LogicalResourceId: 'dev-events',
            ResourceType: 'AWS::CloudFormation::Stack',
            ResourceStatus: 'ROLLBACK_COMPLETE',
            Timestamp: '2026-11-30T19:00:09.000Z',
          },
          {
            StackName: 'dev-events',
            LogicalResourceId: 'ConsumeruserconsumerFunctionEAD6C1B8',
            ResourceType: 'AWS::Lambda::Function',
            ResourceStatus: 'CREATE_FAILED',
            ResourceStatusReason: 'Resource handler returned message: "Error while creating lambda"',
            Timestamp: '2026-11-30T19:00:05.000Z',
          },
          {
            StackName: 'dev-events',
            LogicalResourceId: 'ProducerFunction7ED37CC2',
            ResourceType: 'AWS::Lambda::Function',
            ResourceStatus: 'CREATE_COMPLETE',
            Timestamp: '2026-11-30T19:00:04.000Z',
          },
        ] as StackEvent[],
      },
    });
    const result = await runSmoke(fake, { run: RUN, timeoutMs: 60_000 });
    expect(result).toMatchObject({ ok: false, failedStep: 'functions', posted: [] });
    expect(written).toEqual([]);
    expect(result.evidence).toEqual([
      `dev-user-consumer: ResourceNotFoundException: Function not found: ${ARN}:dev-user-consumer`,
      'stack dev-kafka: ValidationError: Stack with id dev-kafka does not exist',
      'stack dev-events: ConsumeruserconsumerFunctionEAD6C1B8 (AWS::Lambda::Function) CREATE_FAILED: ' +
        'Resource handler returned message: "Error while creating lambda"',
    ]);
    expect(log).toContain('FAILED at step "functions": not every function is deployed and active');
  });

  it('names a function that is not Active, with its state reason', async () => {
    const { fake } = io(recordedReads(RUN, poisonKey), recordedPosts, {
      configurations: {
        'dev-producer': {
          ...configuration('dev-producer'),
          State: 'Failed',
          StateReason: 'Function failed to start: exec format error',
        },
      },
      stackEvents: { 'dev-kafka': [], 'dev-events': [] },
    });
    const result = await runSmoke(fake, { run: RUN, timeoutMs: 60_000 });
    expect(result.failedStep).toBe('functions');
    expect(result.evidence).toEqual([
      'dev-producer: State Failed: Function failed to start: exec format error',
      'stack dev-kafka: no failed events',
      'stack dev-events: no failed events',
    ]);
  });

  it('shows the mapping state and the consumer’s last log lines when derived events are missing', async () => {
    const [first] = recordedReads(RUN, poisonKey);
    const order = 'dev-order-consumer';
    const payment = 'dev-payment-consumer';
    const { fake } = io([first ?? []], recordedPosts, {
      mappings: {
        [order]: [
          {
            UUID: '9c353a2b-bc1a-48b5-95a6-04baf67f01e4',
            StartingPosition: 'TRIM_HORIZON',
            BatchSize: 100,
            EventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/dev-events/b154d18a',
            FunctionArn: `${ARN}:${order}`,
            LastModified: '2026-11-30T19:01:49.438914+00:00',
            LastProcessingResult:
              'PROBLEM: Connection error. Please check your event source connection configuration.',
            State: 'Enabled',
            StateTransitionReason: 'User action',
            Topics: ['order-events'],
          } as EventSourceMapping,
        ],
        [payment]: [
          {
            UUID: '2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f',
            LastProcessingResult: 'OK',
            State: 'Enabled',
            StateTransitionReason: 'User action',
            Topics: ['payment-events'],
          },
        ],
      },
      logs: {
        [logGroupOf(order)]: Array.from({ length: 25 }, (_, i) => ({
          timestamp: 1_796_065_200_000 + i,
          message: `line ${i + 1}\n`,
        })),
      },
    });
    const result = await runSmoke(fake, { run: RUN, timeoutMs: 0 });
    expect(result.failedStep).toBe('derived events');
    expect(result.evidence).toEqual([
      `${order} mapping 9c353a2b-bc1a-48b5-95a6-04baf67f01e4 (order-events): State Enabled, StateTransitionReason ` +
        'User action, LastProcessingResult PROBLEM: Connection error. Please check your event source connection configuration.',
      ...Array.from({ length: 20 }, (_, i) => `${order} log: line ${i + 6}`),
      `${payment} mapping 2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f (payment-events): State Enabled, ` +
        'StateTransitionReason User action, LastProcessingResult OK',
      `${payment}: no log lines in ${logGroupOf(payment)} since the run started`,
      // The dead letter is missing too: the user consumer writes it.
      'dev-user-consumer: no event-source mapping',
      `dev-user-consumer: no log lines in ${logGroupOf('dev-user-consumer')} since the run started`,
    ]);
  });

  it('shows the producer’s last log lines when the API refuses an event', async () => {
    const { fake } = io(
      recordedReads(RUN, poisonKey),
      { ...recordedPosts, '/events/order': { status: 500, body: { message: 'Internal server error' } } },
      {
        logs: {
          [logGroupOf('dev-producer')]: [
            {
              timestamp: 1_796_065_200_000,
              message:
                '{"level":"ERROR","message":"KafkaJSConnectionError: Connection error: connect ECONNREFUSED 127.0.0.1:4511"}',
            },
          ],
        },
      },
    );
    const result = await runSmoke(fake, { run: RUN, timeoutMs: 60_000 });
    expect(result).toMatchObject({ ok: false, failedStep: 'post' });
    expect(result.evidence).toEqual([
      'dev-producer log: {"level":"ERROR","message":"KafkaJSConnectionError: Connection error: connect ECONNREFUSED 127.0.0.1:4511"}',
    ]);
  });

  it('fails and names what is missing when the time runs out', async () => {
    const [first] = recordedReads(RUN, poisonKey);
    const { fake, log } = io([first ?? []]);
    const result = await runSmoke(fake, { run: RUN, timeoutMs: 0 });
    expect(result.ok).toBe(false);
    expect(result.derivedMissing).toEqual([
      'order_confirmation_sent on email-events',
      'order_paid on order-events',
    ]);
    expect(result.deadLetterSeen).toBe(false);
    expect(log).toContain('MISSING order_paid on order-events');
  });

  it('fails when the API does not accept an event', async () => {
    const { fake } = io(recordedReads(RUN, poisonKey), {
      ...recordedPosts,
      '/events/order': { status: 503, body: { error: 'ServiceUnavailable' } },
    });
    expect((await runSmoke(fake, { run: RUN, timeoutMs: 60_000 })).ok).toBe(false);
  });

  it('rewrites the API URL of the stack output to LocalStack’s host', () => {
    expect(
      localstackApiUrl(
        'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/',
        'http://localhost:4566',
      ),
    ).toBe('http://a1b2c3d4e5.execute-api.localhost.localstack.cloud:4566/prod');
  });
});
