/** `npm start -- --bundles`: the runtime runs the esbuild bundles CDK deploys, end to end. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decode } from '../../core/glue-wire-format';
import { LocalRuntime } from '../../local/runtime';
import { eventExamples } from '../../schemas/examples';
import { readUntil, testKafka, unique } from '../support/kafka-clients';
import { freePort } from '../support/runtime-process';

const brokers = inject('kafkaBrokers');
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await LocalRuntime.start({ brokers, apiPort: await freePort(), bundles: true });
}, 180_000);
afterAll(async () => {
  await runtime?.stop();
});

describe('local runtime on the deployed bundles', () => {
  it('serves the API and derives events with the bundled code', async () => {
    expect(runtime.origin).toMatch(/\.cache\/bundles$/);
    const correlationId = unique('bundled');
    const response = await fetch(`${runtime.apiUrl}/events/user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...eventExamples.user_deleted[0], eventId: undefined, correlationId }),
    });
    expect(response.status).toBe(202);
    const [derived] = await readUntil(
      testKafka(brokers, 'bundles'),
      ['cleanup-events'],
      (m) =>
        !!m.message.value &&
        JSON.parse(decode(m.message.value).payload.toString()).correlationId === correlationId,
      1,
    );
    expect(derived).toBeDefined();
  });
});
