/**
 * The live view of `npm start` in a real browser (headless Chromium through playwright-core) against
 * the runtime on the real broker: topics and their counts, mapping lag, an event with the event it
 * caused, dead letters with their reasons, a re-drive from the page that the pipeline then
 * processes, and the analytics chart drawn from GET /analytics/daily as events are counted. Leaves
 * screenshots in test-artifacts/.
 */
import { mkdir } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { deadLetterFor, deadLetterMessage, PoisonRecord } from '../../core/dead-letter';
import { decodeMskEvent } from '../../core/msk-event';
import { eventRecord, schemaVersionIds } from '../../core/records';
import { consumers, topics } from '../../core/topology';
import { LocalRuntime } from '../../local/runtime';
import type { Overview } from '../../local/view/overview';
import { REDRIVEN_FROM_HEADER } from '../../ops/redrive';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent } from '../../schemas/index';
import { mskRecord } from '../fixtures/msk';
import { ensureChromium } from '../support/chromium';
import { kafkaTest } from '../support/fixtures';
import { durableProducer, readUntil, unique } from '../support/kafka-clients';
import { freePort } from '../support/runtime-process';

const SCREENSHOT = 'test-artifacts/live-view.png';
/** Per test: the integration tests' 2 minutes, plus apt-get's 15 at most the one time Chromium is installed. */
const TIMEOUT = { timeout: 120_000 + 900_000 };

const it = kafkaTest('view-it');
let runtime: LocalRuntime;
let browser: Browser | undefined;

it.beforeAll(async ({ brokers }) => {
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort() });
}, 120_000);
it.afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

/**
 * Headless Chromium (or Chrome) found by test/support/chromium.ts, which installs Debian's package
 * once when none is found and it can (root with apt-get), and otherwise says what to run. Launched
 * by the test that needs it so that a missing browser fails that test (counted as failed in CI's
 * totals) rather than the file's setup (which would only skip it).
 */
async function launchChromium(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: await ensureChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return browser;
}

const post = (path: string, body: unknown, contentType = 'application/json') =>
  fetch(`${runtime.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify(body),
  });

const decodeEvent = (value: Buffer | null) => {
  try {
    return value ? (JSON.parse(value.subarray(18).toString()) as AnyEvent) : undefined;
  } catch {
    return undefined;
  }
};

/** Waits for `selector` on the page, which refreshes itself every 2 s. */
const shown = (page: Page, selector: string) =>
  page.locator(selector).first().waitFor({ state: 'visible', timeout: 30_000 });

/** A page of the live view that fails the test on a script error or a request to anywhere else. */
async function openView(chrome: Browser): Promise<{ page: Page; failures: string[] }> {
  const page = await chrome.newPage({ viewport: { width: 1400, height: 1000 } });
  const failures: string[] = [];
  page.on('pageerror', (e) => failures.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(runtime.apiUrl) && !r.url().startsWith('data:'))
      failures.push(`external ${r.url()}`);
  });
  return { page, failures };
}

/** A UTC day, `daysAgo` days before now. */
const utcDay = (daysAgo = 0) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

interface Day {
  date: string;
  counts: Record<string, number>;
  revenue: Record<string, number>;
  activeUsers: number;
}

describe('live view', TIMEOUT, () => {
  it('serves the overview as JSON and refuses re-drive requests it cannot honour', async () => {
    const overview = (await (await fetch(`${runtime.apiUrl}/api/overview`)).json()) as Overview;
    expect(overview.topics.map((t) => t.name)).toEqual(topics.map((t) => t.name));
    expect(overview.mappings.map((m) => m.name)).toEqual(consumers.map((c) => c.name));
    expect(overview.mappings.every((m) => m.state === 'running')).toBe(true);

    // A cross-site form can only send form or text types; the action insists on JSON.
    expect((await post('/api/redrive', { topic: 'user-events.dlq' }, 'text/plain')).status).toBe(415);
    const notDlq = await post('/api/redrive', { topic: 'user-events' });
    expect(notDlq.status).toBe(400);
    expect(((await notDlq.json()) as { message: string }).message).toMatch(/not a dead-letter topic/);
    expect((await post('/api/redrive', { topic: 'user-events.dlq', offset: 3 })).status).toBe(400);
    // Existing routes are unchanged: other POSTs are still unknown.
    expect((await post('/admin', {})).status).toBe(404);
  });

  it('shows topics, lag, an event and its derived event, dead letters, and re-drives one from the page', async ({
    brokers,
    kafka,
    writer,
  }) => {
    const chrome = await launchChromium();
    const run = unique('view');

    // An event through the API, and what the user consumer derives from it.
    const posted = await post('/events/user', {
      ...eventExamples.user_registered[0],
      eventId: undefined,
      correlationId: `${run}-posted`,
      data: { ...eventExamples.user_registered[0]?.data, userId: `${run}-p` },
    });
    expect(posted.status).toBe(202);
    const { eventId } = (await posted.json()) as { eventId: string };
    await readUntil(kafka, ['email-events'], (m) => decodeEvent(m.message.value)?.causationId === eventId, 1);

    // A poison record, which the runtime's mapping dead-letters with its reason.
    const poisonKey = `user-${run}-poison`;
    const producer = durableProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: 'user-events',
      acks: -1,
      messages: [{ key: poisonKey, value: Buffer.from('{"eventType":') }],
    });
    await producer.disconnect();
    await readUntil(kafka, ['user-events.dlq'], (m) => m.message.key?.toString() === poisonKey, 1);

    // A valid event dead-lettered after its retries ran out (say, a downstream outage), as the mapping
    // writes it: re-driving it now succeeds. Its source offset is made up: it never reached the topic.
    const stranded = {
      ...(eventExamples.user_registered[0] as AnyEvent),
      eventId: crypto.randomUUID(),
      correlationId: `${run}-stranded`,
      data: { ...eventExamples.user_registered[0]?.data, userId: `${run}-s` },
    } as AnyEvent;
    const { message } = eventRecord(stranded, schemaVersionIds(undefined));
    const [record] = decodeMskEvent({
      eventSource: 'aws:kafka',
      bootstrapServers: brokers,
      records: {
        'user-events-0': [
          mskRecord({
            topic: 'user-events',
            partition: 0,
            offset: 1_000_000,
            key: message.key,
            value: message.value,
            headers: message.headers as Record<string, string>,
          }),
        ],
      },
    });
    if (!record) throw new Error('no record');
    const letter = deadLetterFor(
      record,
      { eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local', bootstrapServers: brokers },
      new PoisonRecord('RetriesExhausted', 'the handler timed out 6 times', 'RetriesExhausted'),
      {
        awsRequestId: crypto.randomUUID(),
        invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:user-consumer',
        functionName: 'user-consumer',
      },
      new Date(),
      { approximateInvokeCount: 6 },
    );
    await writer.send([{ topic: 'user-events.dlq', messages: [deadLetterMessage(record, letter)] }]);

    const page = await chrome.newPage({ viewport: { width: 1400, height: 1000 } });
    const failures: string[] = [];
    page.on('pageerror', (e) => failures.push(e.message));
    page.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
    // Nothing but the local API may be fetched: no CDN, no fonts, no analytics.
    page.on('request', (r) => {
      if (!r.url().startsWith(runtime.apiUrl) && !r.url().startsWith('data:'))
        failures.push(`external ${r.url()}`);
    });
    await page.goto(`${runtime.apiUrl}/`);
    await shown(page, 'body[data-loaded]');

    // Topics and their counts.
    for (const t of topics) await shown(page, `#topics tr[data-topic="${t.name}"]`);
    const userEvents = Number(
      await page
        .locator('#topics tr[data-topic="user-events"] td[data-messages]')
        .getAttribute('data-messages'),
    );
    expect(userEvents).toBeGreaterThanOrEqual(2);

    // Lag per mapping: all caught up once the records above were processed.
    for (const c of consumers) await shown(page, `#mappings tr[data-mapping="${c.name}"] td[data-lag="0"]`);

    // The posted event with the event it caused, nested under it.
    const source = `#events li[data-correlation-id="${run}-posted"][data-event-type="user_registered"]`;
    await shown(
      page,
      `${source} > ul.derived > li[data-event-type="welcome_email_sent"][data-causation-id="${eventId}"]`,
    );
    expect(await page.locator(source).getAttribute('data-event-id')).toBe(eventId);

    // Dead letters with their reasons.
    // One dead letter per mapping that reads user-events and cannot read the record: the user
    // consumer's and the analytics function's (each mapping has its own on-failure destination write).
    const poisonRows = page.locator(`#dead-letters tr[data-key="${poisonKey}"]`);
    await poisonRows.first().waitFor({ timeout: 30_000 });
    await expect.poll(() => poisonRows.count(), { timeout: 30_000 }).toBe(2);
    const poisonRow = poisonRows.first();
    expect(await poisonRow.textContent()).toContain('DESERIALIZATION_ERROR');
    expect(await poisonRow.textContent()).toContain('shorter than the 18-byte Glue Schema Registry header');
    const strandedRow = page.locator(`#dead-letters tr[data-key="user-${run}-s"]`);
    await strandedRow.waitFor({ timeout: 30_000 });
    expect(await strandedRow.textContent()).toContain('RetriesExhausted');
    expect(await strandedRow.textContent()).toContain('the handler timed out 6 times');

    // Re-drive from the page: the row turns re-driven, the event reaches the consumer, which derives
    // its welcome e-mail, shown under it.
    await strandedRow.locator('button[data-redrive]').click();
    await shown(page, '#flash:has-text("Re-driven")');
    await strandedRow.locator('[data-redriven="true"]').waitFor({ timeout: 30_000 });
    const redriven = `#events li[data-event-id="${stranded.eventId}"]`;
    await shown(page, `${redriven} [data-redriven-from]`);
    await shown(page, `${redriven} > ul.derived > li[data-event-type="welcome_email_sent"]`);
    const id = (await strandedRow.getAttribute('data-dead-letter')) as string;
    expect(await page.locator(`${redriven} [data-redriven-from]`).getAttribute('data-redriven-from')).toBe(
      id,
    );

    // On Kafka: the original, byte for byte, with the redriven-from header, and its derived event.
    const [copy] = await readUntil(
      kafka,
      ['user-events'],
      (m) => m.message.headers?.[REDRIVEN_FROM_HEADER]?.toString() === id,
      1,
    );
    expect(copy?.message.value).toEqual(message.value);
    expect(copy?.message.key?.toString()).toBe(message.key);
    // A second click has nothing left to do: the button is gone, and the API agrees.
    expect(await strandedRow.locator('button[data-redrive]').count()).toBe(0);
    const [dlq, partition, offset] = id.split('/');
    const again = (await (
      await post('/api/redrive', { topic: dlq, partition: Number(partition), offset })
    ).json()) as {
      redriven: unknown[];
      alreadyRedriven: number;
    };
    expect(again).toMatchObject({ redriven: [], alreadyRedriven: 1 });

    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
    expect(failures).toEqual([]);
  });

  it('draws the analytics chart from each answer of GET /analytics/daily, and says why when it has none', async () => {
    const { page, failures } = await openView(await launchChromium());
    // The analytics API's answers, set by the test, so that each state of the section is shown.
    let answer: { status: number; body: unknown } = {
      status: 503,
      body: { error: 'ServiceUnavailable', message: 'the analytics table is not reachable' },
    };
    const asked: URL[] = [];
    await page.route(
      (url) => url.pathname === '/analytics/daily',
      (route) => {
        asked.push(new URL(route.request().url()));
        return route.fulfill({
          status: answer.status,
          contentType: 'application/json',
          body: JSON.stringify(answer.body),
        });
      },
    );
    await page.goto(`${runtime.apiUrl}/`);
    await shown(
      page,
      '#analytics[data-state="unavailable"] .unavailable:text-is("analytics not available: HTTP 503 · the analytics table is not reachable")',
    );
    // The last 14 UTC days, today included.
    expect(asked[0]?.searchParams.get('to')).toBe(utcDay());
    expect(asked[0]?.searchParams.get('from')).toBe(utcDay(13));

    const days = (today: Day): Day[] => [
      ...Array.from({ length: 13 }, (_, i) => ({
        date: utcDay(13 - i),
        counts: {},
        revenue: {},
        activeUsers: 0,
      })),
      today,
    ];
    const today = utcDay();
    answer = {
      status: 200,
      body: {
        days: days({ date: today, counts: { user_login: 2 }, revenue: { XTS: 1500 }, activeUsers: 2 }),
      },
    };
    await shown(page, `#analytics svg rect[data-date="${today}"][data-type="user_login"][data-count="2"]`);
    await shown(page, `#analytics svg rect[data-date="${today}"][data-currency="XTS"][data-minor="1500"]`);
    await shown(page, `#analytics svg rect[data-date="${today}"][data-active-users="2"]`);
    // Redrawn on the next poll as more events are counted: the new type stacks on the first.
    answer = {
      status: 200,
      body: {
        days: days({
          date: today,
          counts: { user_login: 5, order_created: 1 },
          revenue: { XTS: -300 },
          activeUsers: 3,
        }),
      },
    };
    await shown(page, `#analytics svg rect[data-date="${today}"][data-type="user_login"][data-count="5"]`);
    await shown(page, `#analytics svg rect[data-date="${today}"][data-type="order_created"][data-count="1"]`);
    await shown(page, `#analytics svg rect[data-currency="XTS"][data-minor="-300"]`);
    expect(await page.locator('#analytics svg rect.bar.count').count()).toBe(2);

    // An answer that breaks the contract is named, not drawn.
    answer = { status: 200, body: { days: [{ date: today, counts: {}, revenue: {} }] } };
    await shown(
      page,
      '#analytics .unavailable:text-is("analytics not available: days[0].activeUsers is not a count")',
    );
    // No analytics API at all (a runtime without it): the local API's 404.
    answer = { status: 404, body: { error: 'NotFound', message: 'no route for GET /analytics/daily' } };
    await shown(
      page,
      '#analytics .unavailable:text-is("analytics not available: HTTP 404 · no route for GET /analytics/daily")',
    );
    // The rest of the page is unaffected.
    await shown(page, '#topics tr[data-topic="user-events"]');
    await page.close();
    expect(failures).toEqual([]);
  });

  it('shows the events posted in the analytics chart once they are counted, a re-sent event once', async () => {
    // Against the runtime's own analytics (consumer, table, API): the contract of docs/analytics.md.
    const occurredAt = new Date().toISOString();
    const day = occurredAt.slice(0, 10);
    const readDay = async (): Promise<Day> => {
      const response = await fetch(`${runtime.apiUrl}/analytics/daily?from=${day}&to=${day}`);
      if (response.status !== 200)
        throw new Error(`GET /analytics/daily answered ${response.status}: ${await response.text()}`);
      const [only] = ((await response.json()) as { days: Day[] }).days;
      if (!only) throw new Error('GET /analytics/daily answered no day');
      return only;
    };
    const before = await readDay();
    const run = unique('view-analytics');
    const login = (user: string) => ({
      ...(eventExamples.user_login[0] as AnyEvent),
      eventId: crypto.randomUUID(),
      occurredAt,
      correlationId: `${run}-login`,
      data: { userId: `${run}-${user}`, method: 'password' },
    });
    const logins = [login('a'), login('a'), login('b')];
    expect((await post('/events/user/batch', { events: logins })).status).toBe(202);
    // A client re-sending an event it already sent: the same eventId, counted once.
    expect((await post('/events/user', logins[0])).status).toBe(202);
    // ISO 4217's code for tests, so that no other event adds to this revenue.
    const payment = {
      ...(eventExamples.payment_processed[0] as AnyEvent),
      eventId: crypto.randomUUID(),
      occurredAt,
      correlationId: `${run}-payment`,
      data: { ...eventExamples.payment_processed[0]?.data, amount: 1234, currency: 'XTS' },
    };
    expect((await post('/events/payment', payment)).status).toBe(202);

    const { page, failures } = await openView(await launchChromium());
    await page.goto(`${runtime.apiUrl}/`);
    const bar = (attrs: string) => `#analytics svg rect[data-date="${day}"]${attrs}`;
    await shown(
      page,
      bar(`[data-type="user_login"][data-count="${(before.counts.user_login ?? 0) + logins.length}"]`),
    );
    await shown(
      page,
      bar(`[data-type="payment_processed"][data-count="${(before.counts.payment_processed ?? 0) + 1}"]`),
    );
    await shown(page, bar(`[data-currency="XTS"][data-minor="${(before.revenue.XTS ?? 0) + 1234}"]`));
    await shown(page, bar(`[data-active-users="${before.activeUsers + 2}"]`));
    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/live-view-analytics.png', fullPage: true });
    await page.close();
    expect(failures).toEqual([]);
  });
});
