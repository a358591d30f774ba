/**
 * The analytics function writes to Kafka only for dead letters, so its bundle loads kafkajs at its
 * first write rather than at start (lambdas/analytics/handler.ts, lazyContainerWriter): loading it was
 * most of what the function's cold start cost beyond the AWS SDK's. Checked on the bundle CDK deploys,
 * in a fresh process as Lambda starts it: kafkajs' socket code (it loads node:tls; nothing else in the
 * function does) not loaded with the module, and the first dead letter still written to `<topic>.dlq`
 * on the real broker.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect } from 'vitest';
import { esbuildOptions } from '../../core/bundling';
import { schemaVersionIds } from '../../core/records';
import { analytics } from '../../core/topology';
import { ensureTopics } from '../../lambdas/shared/topics';
import { toMskEvent } from '../../local/esm/msk-records';
import { functionEnvironment } from '../../local/functions';
import { eventExamples } from '../../schemas/examples';
import type { DeadLetter } from '../../schemas/index';
import { kafkaTest } from '../support/fixtures';
import { readUntil, unique } from '../support/kafka-clients';

const it = kafkaTest('analytics-lazy-it');
const run = promisify(execFile);
let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('analytics bundle', () => {
  it('loads kafkajs at its first dead letter, not at start, and writes it', async ({
    admin,
    brokers,
    kafka,
  }) => {
    await ensureTopics(admin);
    await mkdir('.cache', { recursive: true });
    dir = await mkdtemp(join(resolve('.cache'), 'analytics-lazy-'));
    const bundle = join(dir, 'index.mjs');
    await build(esbuildOptions(analytics.entry, bundle));

    // A valid user_login on order-events: the function finds it does not belong there.
    const key = unique('analytics-lazy');
    const stray = { ...eventExamples.user_login[0], eventId: crypto.randomUUID() };
    const ids = schemaVersionIds(undefined);
    const event = toMskEvent(
      [
        {
          topic: 'order-events',
          partition: 0,
          offset: 0,
          timestamp: Date.now(),
          timestampType: 'CREATE_TIME',
          key: Buffer.from(key).toString('base64'),
          value: Buffer.from(JSON.stringify(stray)).toString('base64'),
          headers: [],
          valueSchemaMetadata: { dataFormat: 'JSON', schemaId: ids('user_login') },
        },
      ],
      'arn:aws:kafka:local:000000000000:cluster/local/local',
      brokers,
    );
    const eventFile = join(dir, 'event.json');
    await writeFile(eventFile, JSON.stringify(event));
    const script = `
      const loaded = () => ['NativeModule tls'].filter((m) => process.moduleLoadList.includes(m));
      const { handler } = await import(${JSON.stringify(`file://${bundle}`)});
      const atStart = loaded();
      const event = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(eventFile)}, 'utf8'));
      const context = { functionName: 'analytics', awsRequestId: 'lazy', invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:analytics', getRemainingTimeInMillis: () => 30000 };
      const response = await handler(event, context);
      console.log(JSON.stringify({ atStart, afterWrite: loaded(), response }));
      process.exit(0);
    `;
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);${script}`,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          ...functionEnvironment(brokers),
          ANALYTICS_TABLE: 'analytics-lazy-unused',
          AWS_REGION: 'us-east-1',
          POWERTOOLS_LOG_LEVEL: 'ERROR',
        },
        timeout: 60_000,
      },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(result.atStart).toEqual([]);
    expect(result.afterWrite).toEqual(['NativeModule tls']);
    expect(result.response).toEqual({ batchItemFailures: [] });
    const letters = await readUntil(kafka, ['order-events.dlq'], (m) => m.message.key?.toString() === key, 1);
    const letter = JSON.parse(letters[0]?.message.value?.toString() as string) as DeadLetter;
    expect(letter.errorInfo?.handler).toBe('analytics');
    expect(letter.errorInfo?.errorType).toBe('UnexpectedEventType');
  });
});
