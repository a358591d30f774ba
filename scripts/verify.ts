/**
 * `npm run verify -- --stage <stage>` (or `--api-url <url>`): a post-deploy check a user can run
 * without reaching into the VPC. It reads today's analytics, sends a few events (one per stream,
 * with fresh ids and one fresh correlation id) through the producer API, then polls
 * `GET /analytics/daily` until each is counted, or reports what is still missing after the timeout.
 *
 * With `--stage`, the API is the `EventsUrl` output of the stack `<stage>-events` (CloudFormation
 * DescribeStacks) and requests are signed with SigV4 for `execute-api` (docs/deploy.md, "Call the API
 * with SigV4"; https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-using-iam-policies-to-invoke-api.html),
 * with the credentials of the shell (the SDK's default chain). `--api-url http://127.0.0.1:3000`
 * checks the local API of `npm start`, unsigned unless `--sigv4`.
 *
 * Exit status: 0 all counted, 1 something missing or failed, 2 a wrong command line.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SignatureV4 } from '@smithy/signature-v4';
import { ANALYTICS_ROUTE, type DailyAnalytics } from '../core/analytics-query';
import { streams } from '../core/topology';
import { Sha256 } from '../lambdas/shared/sha256';
import { eventExamples } from '../schemas/examples';

/** An HTTP call: `fetch`, or a fake in the tests. */
export type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

/** What one event adds to its day, as the analytics API reports it. */
export interface Expectation {
  readonly date: string;
  /** Events expected by type (at least this many more than before). */
  readonly counts: Readonly<Record<string, number>>;
  /** Distinct users expected to log in (at least this many more than before). */
  readonly activeUsers: number;
}

/** The events of a check: one per stream, with fresh ids, the correlation id and the time given. */
export function verificationEvents(
  correlationId: string,
  now: Date,
): { stream: string; event: Record<string, unknown> }[] {
  const suffix = correlationId.slice(0, 8);
  const ids = {
    userId: `verify-u-${suffix}`,
    orderId: `verify-o-${suffix}`,
    paymentId: `verify-p-${suffix}`,
  };
  const templates = [
    eventExamples.user_login[0],
    eventExamples.order_created[0],
    eventExamples.payment_processed[0],
  ];
  return templates.map((template) => {
    const example = structuredClone(template) as unknown as Record<string, unknown> & {
      eventType: string;
      data: Record<string, unknown>;
    };
    const stream = streams.find((s) => (s.accepts as readonly string[]).includes(example.eventType));
    if (!stream) throw new Error(`no stream accepts ${example.eventType}`);
    for (const [key, value] of Object.entries(ids)) if (key in example.data) example.data[key] = value;
    return {
      stream: stream.name,
      event: {
        ...example,
        eventId: randomUUID(),
        correlationId,
        occurredAt: now.toISOString(),
        source: 'verify',
      },
    };
  });
}

/** What the events add to their day. */
export function expectationOf(events: readonly { event: Record<string, unknown> }[]): Expectation {
  const counts: Record<string, number> = {};
  let activeUsers = 0;
  let date = '';
  for (const { event } of events) {
    const type = event.eventType as string;
    counts[type] = (counts[type] ?? 0) + 1;
    if (type === 'user_login') activeUsers++;
    date = (event.occurredAt as string).slice(0, 10);
  }
  return { date, counts, activeUsers };
}

/**
 * What is not yet counted: each event type whose count grew by less than expected since `before`,
 * and the active users. Empty when everything is counted. (Other traffic may add more: at least the
 * expected growth is enough.)
 */
export function missing(expected: Expectation, before: DailyAnalytics, now: DailyAnalytics): string[] {
  const out: string[] = [];
  for (const [type, n] of Object.entries(expected.counts)) {
    const grown = (now.counts[type] ?? 0) - (before.counts[type] ?? 0);
    if (grown < n) out.push(`${type}: ${grown} of ${n} counted on ${expected.date}`);
  }
  const users = now.activeUsers - before.activeUsers;
  if (users < expected.activeUsers) {
    out.push(`active users: ${users} of ${expected.activeUsers} counted on ${expected.date}`);
  }
  return out;
}

/** A `fetch` that signs each request with SigV4 for API Gateway (`execute-api`) in `region`. */
export function signedFetch(region: string, base: Fetch = fetchText): Fetch {
  const client = new CloudFormationClient({ region });
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: () => client.config.credentials(),
    sha256: Sha256,
  });
  return async (url, init) => {
    const u = new URL(url);
    const signed = await signer.sign({
      method: init.method,
      protocol: u.protocol,
      hostname: u.hostname,
      port: u.port ? Number(u.port) : undefined,
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: { ...init.headers, host: u.host },
      body: init.body,
    });
    // fetch sets Host from the URL itself (the value signed).
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    return base(url, { ...init, headers });
  };
}

const fetchText: Fetch = (url, init) => fetch(url, init);

export interface VerifyOptions {
  /** The API's base URL, ending with `/` (e.g. `https://<id>.execute-api.<region>.amazonaws.com/v1/`). */
  readonly apiUrl: string;
  readonly fetch: Fetch;
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly correlationId: string;
  readonly missing: readonly string[];
}

async function daily(options: VerifyOptions, date: string): Promise<DailyAnalytics> {
  const url = new URL(ANALYTICS_ROUTE.slice(1), options.apiUrl);
  url.searchParams.set('from', date);
  url.searchParams.set('to', date);
  const response = await options.fetch(url.toString(), {
    method: 'GET',
    headers: { accept: 'application/json' },
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`GET ${url.pathname}${url.search} answered ${response.status}: ${text.slice(0, 500)}`);
  }
  const day = (JSON.parse(text) as { days?: DailyAnalytics[] }).days?.[0];
  if (!day || day.date !== date)
    throw new Error(`GET ${url.pathname} answered no entry for ${date}: ${text.slice(0, 500)}`);
  return day;
}

/** Sends the events, then polls the analytics until they are counted or the timeout passes. */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const log = options.log ?? (() => {});
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? (() => new Date());
  const correlationId = randomUUID();
  const events = verificationEvents(correlationId, now());
  const expected = expectationOf(events);
  const before = await daily(options, expected.date);
  for (const { stream, event } of events) {
    const url = new URL(`events/${stream}`, options.apiUrl).toString();
    const response = await options.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    const text = await response.text();
    if (response.status !== 202) {
      return {
        ok: false,
        correlationId,
        missing: [
          `POST /events/${stream} (${event.eventType}) answered ${response.status}: ${text.slice(0, 500)}`,
        ],
      };
    }
    log(`sent ${event.eventType} ${event.eventId} to /events/${stream}`);
  }
  const deadline = now().getTime() + options.timeoutMs;
  let left: string[] = [];
  for (;;) {
    left = missing(expected, before, await daily(options, expected.date));
    if (left.length === 0) {
      log(`all ${events.length} events counted (correlation id ${correlationId})`);
      return { ok: true, correlationId, missing: [] };
    }
    if (now().getTime() >= deadline) return { ok: false, correlationId, missing: left };
    await sleep(options.pollMs ?? 2000);
  }
}

/** The API base URL of a stage: its `<stage>-events` stack's `...EventsUrl` output without `events/{stream}`. */
async function stageApiUrl(stage: string, region: string): Promise<string> {
  const client = new CloudFormationClient({ region });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: `${stage}-events` }));
    const outputs = Stacks?.[0]?.Outputs ?? [];
    const events = outputs.find((o) => /EventsUrl/.test(o.OutputKey ?? ''))?.OutputValue;
    if (!events?.endsWith('events/{stream}')) {
      throw new Error(
        `the stack ${stage}-events has no EventsUrl output (outputs: ${outputs.map((o) => o.OutputKey).join(', ') || 'none'})`,
      );
    }
    return events.slice(0, -'events/{stream}'.length);
  } finally {
    client.destroy();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let values: { stage?: string; 'api-url'?: string; timeout?: string; sigv4?: boolean };
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        stage: { type: 'string' },
        'api-url': { type: 'string' },
        timeout: { type: 'string', default: '180' },
        sigv4: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    console.error(`verify: ${(error as Error).message.split('\n')[0]}`);
    return 2;
  }
  const usage = 'usage: npm run verify -- (--stage S | --api-url URL [--sigv4]) [--timeout SECONDS]';
  if (Boolean(values.stage) === Boolean(values['api-url'])) {
    console.error(`verify: give --stage or --api-url\n${usage}`);
    return 2;
  }
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    console.error(`verify: --timeout must be a number of seconds, not "${values.timeout}"`);
    return 2;
  }
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if ((values.stage || values.sigv4) && !region) {
    console.error('verify: set AWS_REGION to the region of the stack (SigV4 signs for it)');
    return 2;
  }
  try {
    const apiUrl = values.stage
      ? await stageApiUrl(values.stage, region as string)
      : `${(values['api-url'] as string).replace(/\/+$/, '')}/`;
    const signed = Boolean(values.stage) || values.sigv4 === true;
    console.log(`verify: ${apiUrl}${signed ? ' (SigV4)' : ''}`);
    const result = await verify({
      apiUrl,
      fetch: signed ? signedFetch(region as string) : fetchText,
      timeoutMs: timeout * 1000,
      log: (line) => console.log(`verify: ${line}`),
    });
    if (result.ok) return 0;
    console.error(`verify: not counted after ${timeout} s (correlation id ${result.correlationId}):`);
    for (const line of result.missing) console.error(`  ${line}`);
    return 1;
  } catch (error) {
    console.error(`verify: ${(error as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((status) => process.exit(status));
}
