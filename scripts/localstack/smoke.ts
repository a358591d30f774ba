/**
 * `npm run localstack:smoke`: against a running LocalStack where the stack is deployed
 * (`npm run localstack:deploy`), posts one event of each stream through the API, writes one poison
 * record straight into user-events, and waits for the derived events and the dead letter, printing
 * what it saw. Exits non-zero if something did not arrive in time.
 *
 * The logic is in {@link runSmoke}, whose I/O is passed in, so it is unit-tested against recorded
 * responses (test/unit/localstack-smoke.test.ts); {@link main} wires real HTTP, the Kafka API and kafkajs.
 */

import { consumers, dlqOf, streams } from '../../core/topology';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, EventType } from '../../schemas/index';

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
}

export interface SmokeResult {
  readonly ok: boolean;
  readonly posted: { stream: string; eventType: string; status: number }[];
  readonly derivedSeen: string[];
  readonly derivedMissing: string[];
  readonly deadLetterSeen: boolean;
}

/** The derived event types expected, directly, from posting `type`. */
const derivedOf = (type: EventType) =>
  consumers.flatMap((c) => (c.flows[type] ?? []).map((d) => ({ type: d.eventType, topic: d.topic })));

export async function runSmoke(
  io: SmokeIo,
  options: { run: string; timeoutMs?: number; pollMs?: number },
): Promise<SmokeResult> {
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
      return {
        ok: posted.every((p) => p.status === 202) && derivedMissing.length === 0 && deadLetterSeen,
        posted,
        derivedSeen: [...seen],
        derivedMissing,
        deadLetterSeen,
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

/** Real I/O: the API over HTTP, the broker LocalStack runs for the MSK cluster, read with kafkajs. */
async function main(): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { GetBootstrapBrokersCommand, KafkaClient } = await import('@aws-sdk/client-kafka');
  const { createKafka } = await import('../../lambdas/shared/kafka');
  const { decode, looksFramed } = await import('../../core/glue-wire-format');
  const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566';
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
  const kafkaApi = new KafkaClient({ endpoint });
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
  };
  try {
    const result = await runSmoke(io, { run: `smoke-${Date.now().toString(36)}`, timeoutMs: 120_000 });
    console.log(result.ok ? 'smoke test passed' : 'smoke test FAILED');
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
