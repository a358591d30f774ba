/**
 * `npm run localstack:smoke`: against a running LocalStack where the stack is deployed
 * (`npm run localstack:deploy`), first reads each Kafka-fed function's configuration through the
 * Lambda API and prints the broker address it got (`KAFKA_BROKERS`), then posts one event of each
 * stream through the API, writes one poison record straight into user-events, and waits for the
 * derived events and the dead letter, printing what it saw. Exits non-zero if something did not
 * arrive in time.
 *
 * On failure it names the step that failed and prints the evidence LocalStack's APIs hold:
 * - a function missing or not Active: the failed events of both stacks (CloudFormation
 *   DescribeStackEvents, https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html);
 * - a post refused: the producer's last log lines (CloudWatch Logs FilterLogEvents on the log group of
 *   the function's LoggingConfig, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html);
 * - a derived event or the dead letter missing: the state of the responsible consumer's mappings
 *   (Lambda ListEventSourceMappings: State, StateTransitionReason, LastProcessingResult,
 *   https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html) and its last log lines.
 *
 * The logic is in {@link runSmoke}, whose I/O is passed in, so it is unit-tested against responses
 * shaped like those APIs' documented answers (test/unit/localstack-smoke.test.ts); {@link main} wires
 * real HTTP, the AWS APIs at LocalStack's endpoint and kafkajs.
 */

import { analytics, consumers, dlqOf, streams } from '../../core/topology';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, EventType } from '../../schemas/index';
import { localstackClientConfig } from './endpoint';

/** What the smoke run needs from the outside world. */
export interface SmokeIo {
  /** POSTs `body` to the API path; returns status and parsed body. */
  post(path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  /** Writes a raw record (the poison) to a topic. */
  writeRaw(topic: string, key: string, value: Buffer): Promise<void>;
  /** Records of `topics` seen so far: the decoded event (or dead letter) JSON of each. */
  read(topics: readonly string[]): Promise<{ topic: string; json: unknown }[]>;
  sleep(ms: number): Promise<void>;
  log(line: string): void;
  /**
   * Lambda GetFunctionConfiguration (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html);
   * rejects as the API does for a function that does not exist (ResourceNotFoundException).
   */
  getFunctionConfiguration(functionName: string): Promise<FunctionConfiguration>;
  /** Lambda ListEventSourceMappings of one function. */
  listEventSourceMappings(functionName: string): Promise<{ EventSourceMappings?: EventSourceMapping[] }>;
  /** CloudWatch Logs FilterLogEvents of a log group, from `startTime` (ms since the epoch). */
  filterLogEvents(logGroupName: string, startTime: number): Promise<{ events?: LogEvent[] }>;
  /** CloudFormation DescribeStackEvents of a stack, newest first; rejects for a stack that does not exist. */
  describeStackEvents(stackName: string): Promise<{ StackEvents?: StackEvent[] }>;
}

/** What the smoke run reads of a FunctionConfiguration. */
export interface FunctionConfiguration {
  readonly FunctionName?: string;
  readonly State?: string;
  readonly StateReason?: string;
  readonly LastUpdateStatus?: string;
  readonly LastUpdateStatusReason?: string;
  readonly Environment?: { readonly Variables?: Readonly<Record<string, string>> };
  readonly LoggingConfig?: { readonly LogGroup?: string };
}

/** What the smoke run reads of an EventSourceMappingConfiguration. */
export interface EventSourceMapping {
  readonly UUID?: string;
  readonly Topics?: readonly string[];
  readonly State?: string;
  readonly StateTransitionReason?: string;
  readonly LastProcessingResult?: string;
}

/** What the smoke run reads of a FilteredLogEvent. */
export interface LogEvent {
  readonly timestamp?: number;
  readonly message?: string;
}

/** What the smoke run reads of a StackEvent. */
export interface StackEvent {
  readonly StackName?: string;
  readonly Timestamp?: Date | string;
  readonly LogicalResourceId?: string;
  readonly ResourceType?: string;
  readonly ResourceStatus?: string;
  readonly ResourceStatusReason?: string;
}

/** The steps of a smoke run, in order. */
export type SmokeStep = 'functions' | 'post' | 'derived events' | 'dead letter';

export interface SmokeResult {
  readonly ok: boolean;
  /** `KAFKA_BROKERS` of each Kafka-fed function, as its configuration says. */
  readonly brokers: Readonly<Record<string, string>>;
  readonly posted: { stream: string; eventType: string; status: number }[];
  readonly derivedSeen: string[];
  readonly derivedMissing: string[];
  readonly deadLetterSeen: boolean;
  /** The first step that failed, if any. */
  readonly failedStep: SmokeStep | undefined;
  /** What LocalStack's APIs said about the failure (stack events, log lines, mapping states). */
  readonly evidence: string[];
}

/** The Kafka-fed functions of a stage: the producer, each consumer, the analytics consumer. */
export function kafkaFunctionNames(stage: string): string[] {
  return [`${stage}-producer`, ...consumers.map((c) => `${stage}-${c.name}`), `${stage}-${analytics.name}`];
}

const message = (error: unknown) =>
  `${(error as { name?: string })?.name ?? 'Error'}: ${(error as { message?: string })?.message ?? String(error)}`;

/** The failed events of the stage's stacks: the resources that did not deploy, with CloudFormation's reason. */
async function failedStackEvents(io: SmokeIo, stage: string): Promise<string[]> {
  const out: string[] = [];
  for (const stack of [`${stage}-kafka`, `${stage}-events`]) {
    try {
      const { StackEvents = [] } = await io.describeStackEvents(stack);
      const failed = StackEvents.filter((e) => /FAILED$/.test(e.ResourceStatus ?? ''));
      if (failed.length === 0) out.push(`stack ${stack}: no failed events`);
      for (const e of failed)
        out.push(
          `stack ${stack}: ${e.LogicalResourceId} (${e.ResourceType}) ${e.ResourceStatus}: ${e.ResourceStatusReason ?? 'no reason given'}`,
        );
    } catch (error) {
      out.push(`stack ${stack}: ${message(error)}`);
    }
  }
  return out;
}

/** The last `lines` log lines of a function, from the log group of its configuration. */
async function lastLogLines(
  io: SmokeIo,
  functionName: string,
  configuration: FunctionConfiguration | undefined,
  since: number,
  lines: number,
): Promise<string[]> {
  const group = configuration?.LoggingConfig?.LogGroup;
  if (!group) return [`${functionName}: no log group in its configuration`];
  try {
    const { events = [] } = await io.filterLogEvents(group, since);
    if (events.length === 0) return [`${functionName}: no log lines in ${group} since the run started`];
    return events.slice(-lines).map((e) => `${functionName} log: ${(e.message ?? '').trimEnd()}`);
  } catch (error) {
    return [`${functionName}: log group ${group}: ${message(error)}`];
  }
}

/** The state of each event-source mapping of a function. */
async function mappingStates(io: SmokeIo, functionName: string): Promise<string[]> {
  try {
    const { EventSourceMappings = [] } = await io.listEventSourceMappings(functionName);
    if (EventSourceMappings.length === 0) return [`${functionName}: no event-source mapping`];
    return EventSourceMappings.map(
      (m) =>
        `${functionName} mapping ${m.UUID} (${(m.Topics ?? []).join(', ')}): State ${m.State}, ` +
        `StateTransitionReason ${m.StateTransitionReason ?? '-'}, LastProcessingResult ${m.LastProcessingResult ?? '-'}`,
    );
  } catch (error) {
    return [`${functionName}: event-source mappings: ${message(error)}`];
  }
}

/** The derived event types expected, directly, from posting `type`. */
const derivedOf = (type: EventType) =>
  consumers.flatMap((c) => (c.flows[type] ?? []).map((d) => ({ type: d.eventType, topic: d.topic })));

export async function runSmoke(
  io: SmokeIo,
  options: {
    run: string;
    /** @default 'dev' */
    stage?: string;
    timeoutMs?: number;
    pollMs?: number;
    /** When the run started (ms since the epoch): log lines from then on are evidence. @default now */
    startedAt?: number;
    /** Log lines of a function to show as evidence. @default 20 */
    logLines?: number;
  },
): Promise<SmokeResult> {
  const stage = options.stage ?? 'dev';
  const since = options.startedAt ?? Date.now();
  const logLines = options.logLines ?? 20;
  const evidence: string[] = [];
  const report = (lines: string[]) => {
    for (const line of lines) {
      evidence.push(line);
      io.log(`  ${line}`);
    }
  };

  // Step 1: the functions, and the broker address each got.
  const configurations = new Map<string, FunctionConfiguration>();
  const brokers: Record<string, string> = {};
  const broken: string[] = [];
  for (const name of kafkaFunctionNames(stage)) {
    try {
      const configuration = await io.getFunctionConfiguration(name);
      configurations.set(name, configuration);
      brokers[name] = configuration.Environment?.Variables?.KAFKA_BROKERS ?? '(not set)';
      io.log(`${name}: KAFKA_BROKERS=${brokers[name]}`);
      if (configuration.State && configuration.State !== 'Active')
        broken.push(
          `${name}: State ${configuration.State}: ${configuration.StateReason ?? 'no reason given'}`,
        );
      if (configuration.LastUpdateStatus === 'Failed')
        broken.push(
          `${name}: LastUpdateStatus Failed: ${configuration.LastUpdateStatusReason ?? 'no reason given'}`,
        );
    } catch (error) {
      broken.push(`${name}: ${message(error)}`);
    }
  }
  const empty = { posted: [], derivedSeen: [], derivedMissing: [], deadLetterSeen: false };
  if (broken.length > 0) {
    io.log('FAILED at step "functions": not every function is deployed and active');
    report(broken);
    report(await failedStackEvents(io, stage));
    return { ok: false, brokers, ...empty, failedStep: 'functions', evidence };
  }

  let failedStep: SmokeStep | undefined;
  const posted: SmokeResult['posted'] = [];
  const expected: { correlationId: string; type: EventType; topic: string }[] = [];
  for (const stream of streams) {
    const type = stream.accepts.find((t) => derivedOf(t).length > 0) as EventType;
    const correlationId = `${options.run}-${stream.name}`;
    const event = { ...(eventExamples[type][0] as AnyEvent), eventId: undefined, correlationId };
    const response = await io.post(`/events/${stream.name}`, event);
    posted.push({ stream: stream.name, eventType: type, status: response.status });
    io.log(`POST /events/${stream.name} ${type} → ${response.status} ${JSON.stringify(response.body)}`);
    for (const d of derivedOf(type)) expected.push({ correlationId, type: d.type, topic: d.topic });
  }
  if (posted.some((p) => p.status !== 202)) {
    failedStep = 'post';
    io.log('FAILED at step "post": the API did not accept every event');
    const producer = `${stage}-producer`;
    report(await lastLogLines(io, producer, configurations.get(producer), since, logLines));
  }
  const poisonKey = `user-${options.run}-poison`;
  await io.writeRaw('user-events', poisonKey, Buffer.from('{"this is":"not an event"'));
  io.log(`wrote a poison record to user-events (key ${poisonKey})`);

  const topics = [...new Set([...expected.map((e) => e.topic), dlqOf('user-events')])];
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let seen = new Set<string>();
  let deadLetterSeen = false;
  for (;;) {
    const records = await io.read(topics);
    seen = new Set(
      records
        .filter((r) => !r.topic.endsWith('.dlq'))
        .map((r) => r.json as { correlationId?: string; eventType?: string })
        .filter((e) => e.correlationId?.startsWith(`${options.run}-`))
        .map((e) => `${e.correlationId} ${e.eventType}`),
    );
    deadLetterSeen = records.some(
      (r) =>
        r.topic.endsWith('.dlq') &&
        JSON.stringify(r.json).includes(Buffer.from(poisonKey).toString('base64')),
    );
    const missing = expected.filter((e) => !seen.has(`${e.correlationId} ${e.type}`));
    if ((missing.length === 0 && deadLetterSeen) || Date.now() > deadline) {
      for (const e of expected)
        io.log(`${seen.has(`${e.correlationId} ${e.type}`) ? 'saw    ' : 'MISSING'} ${e.type} on ${e.topic}`);
      io.log(
        `${deadLetterSeen ? 'saw    ' : 'MISSING'} the poison record's dead letter on ${dlqOf('user-events')}`,
      );
      const derivedMissing = missing.map((e) => `${e.type} on ${e.topic}`);
      // The consumers that should have written what is missing: their mappings and their logs.
      const suspects = new Set<string>();
      for (const e of missing)
        for (const c of consumers)
          if (Object.values(c.flows).some((ds) => (ds ?? []).some((d) => d.eventType === e.type)))
            suspects.add(c.name);
      if (!deadLetterSeen)
        for (const c of consumers) if (c.sourceTopic === 'user-events') suspects.add(c.name);
      if (suspects.size > 0) {
        const step: SmokeStep = derivedMissing.length > 0 ? 'derived events' : 'dead letter';
        failedStep ??= step;
        io.log(
          `FAILED at step "${step}": ${[...derivedMissing, ...(deadLetterSeen ? [] : ['the dead letter'])].join(', ')} not seen`,
        );
        for (const name of [...suspects].map((n) => `${stage}-${n}`)) {
          report(await mappingStates(io, name));
          report(await lastLogLines(io, name, configurations.get(name), since, logLines));
        }
      }
      return {
        ok: failedStep === undefined,
        brokers,
        posted,
        derivedSeen: [...seen],
        derivedMissing,
        deadLetterSeen,
        failedStep,
        evidence,
      };
    }
    await io.sleep(options.pollMs ?? 2000);
  }
}

/** The API URL as LocalStack serves it: `https://<id>.execute-api.<region>.amazonaws.com/<stage>/` → LocalStack's host. */
export function localstackApiUrl(outputUrl: string, endpoint: string): string {
  const match = /^https:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/([^/]+)\/?/.exec(outputUrl);
  if (!match) return outputUrl;
  const { port, protocol } = new URL(endpoint);
  return `${protocol}//${match[1]}.execute-api.localhost.localstack.cloud:${port || '4566'}/${match[2]}`;
}

/**
 * Real I/O: the API over HTTP, the broker LocalStack runs for the MSK cluster read with kafkajs, and
 * the Lambda, CloudWatch Logs and CloudFormation APIs at LocalStack's endpoint.
 */
async function main(): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { GetBootstrapBrokersCommand, KafkaClient } = await import('@aws-sdk/client-kafka');
  const { CloudFormationClient, DescribeStackEventsCommand } = await import('@aws-sdk/client-cloudformation');
  const { GetFunctionConfigurationCommand, LambdaClient, ListEventSourceMappingsCommand } = await import(
    '@aws-sdk/client-lambda'
  );
  const { CloudWatchLogsClient, FilterLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  const { createKafka } = await import('../../lambdas/shared/kafka');
  const { decode, looksFramed } = await import('../../core/glue-wire-format');
  const aws = localstackClientConfig();
  const { endpoint } = aws;
  const outputs = JSON.parse(await readFile('.cache/localstack-outputs.json', 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  const flat = Object.assign({}, ...Object.values(outputs)) as Record<string, string>;
  const apiOutput = Object.entries(flat).find(([k]) => /ApiUrl|Endpoint/i.test(k))?.[1];
  const clusterArn = Object.entries(flat).find(([k]) => /ClusterArn/i.test(k))?.[1];
  if (!apiOutput || !clusterArn)
    throw new Error(
      '.cache/localstack-outputs.json has no API URL or cluster ARN output: run npm run localstack:deploy first',
    );
  const apiUrl = localstackApiUrl(apiOutput, endpoint).replace(/\/$/, '');
  const stage = /^([a-z][a-z0-9-]*)-kafka$/.exec(
    Object.keys(outputs).find((k) => k.endsWith('-kafka')) ?? '',
  )?.[1];
  const cloudformation = new CloudFormationClient(aws);
  const lambda = new LambdaClient(aws);
  const logs = new CloudWatchLogsClient(aws);
  // This script runs on the host: it reaches the broker at the address GetBootstrapBrokers answers
  // (localhost:<port>, published by docker-compose.yml), not the functions' localhost.localstack.cloud.
  const kafkaApi = new KafkaClient(aws);
  const brokers = await kafkaApi.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  const bootstrap = (brokers.BootstrapBrokerString ?? brokers.BootstrapBrokerStringSaslIam ?? '')
    .split(',')
    .filter(Boolean);
  const kafka = createKafka(
    { clientId: 'localstack-smoke', brokers: bootstrap, auth: 'plaintext', region: undefined },
    undefined,
    { logLevel: 'nothing' },
  );
  const producer = kafka.producer();
  await producer.connect();
  const io: SmokeIo = {
    async post(path, body) {
      const response = await fetch(`${apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: (() => {
          try {
            return JSON.parse(text);
          } catch {
            return text;
          }
        })(),
      };
    },
    async writeRaw(topic, key, value) {
      await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    },
    async read(topics) {
      const consumer = kafka.consumer({ groupId: `smoke-${crypto.randomUUID()}` });
      const out: { topic: string; json: unknown }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          if (!message.value) return;
          try {
            const bytes = looksFramed(message.value) ? decode(message.value).payload : message.value;
            out.push({ topic, json: JSON.parse(bytes.toString('utf8')) });
          } catch {
            // not JSON: nothing the smoke run looks for
          }
        },
      });
      await new Promise((r) => setTimeout(r, 3000));
      await consumer.disconnect();
      return out;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log: (line) => console.log(line),
    // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html
    getFunctionConfiguration: (FunctionName) =>
      lambda.send(new GetFunctionConfigurationCommand({ FunctionName })),
    // https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html
    listEventSourceMappings: (FunctionName) =>
      lambda.send(new ListEventSourceMappingsCommand({ FunctionName })),
    // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
    filterLogEvents: (logGroupName, startTime) =>
      logs.send(new FilterLogEventsCommand({ logGroupName, startTime, limit: 10_000 })),
    describeStackEvents: async (StackName) => {
      const answer = await cloudformation.send(new DescribeStackEventsCommand({ StackName }));
      return { StackEvents: answer.StackEvents };
    },
  };
  try {
    const result = await runSmoke(io, {
      run: `smoke-${Date.now().toString(36)}`,
      stage: stage ?? 'dev',
      timeoutMs: 120_000,
      startedAt: Date.now() - 60_000,
    });
    console.log(
      result.ok ? 'smoke test passed' : `smoke test FAILED at step "${result.failedStep ?? 'unknown'}"`,
    );
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    await producer.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(`smoke test cannot run: ${error.message}`);
    process.exit(1);
  });
}
