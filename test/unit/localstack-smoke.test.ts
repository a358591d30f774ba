import { describe, expect, it } from 'vitest';
import { localstackApiUrl, runSmoke, type SmokeIo } from '../../scripts/localstack/smoke';
import { recordedPosts, recordedReads } from '../fixtures/localstack/recorded';

const RUN = 'smoke-test';
const poisonKey = Buffer.from(`user-${RUN}-poison`).toString('base64');

function io(reads: { topic: string; json: unknown }[][], posts = recordedPosts) {
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
  };
  return { fake, log, written, polls: () => poll };
}

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
