/**
 * kafkajs 2.2.4 re-arms a 1 ms timer forever on every idle broker connection (tulios/kafkajs#1751,
 * #1556, #1704; fixes proposed in #1667/#1755/#1768, never released). patches/kafkajs+2.2.4.patch,
 * applied to node_modules by `patch-package` from the `postinstall` script, stops it. Measured on a
 * real connection of a client from the project's factory: timers armed while idle.
 */
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { testKafka } from '../support/kafka-clients';

const brokers = inject('kafkaBrokers');

describe('kafkajs idle timer fix (patches/kafkajs+2.2.4.patch)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('arms no timer on an idle connection', async () => {
    const admin = testKafka(brokers, 'idle').admin();
    await admin.connect();
    try {
      // A request, so that the connection's request queue has run at least once.
      expect(Array.isArray(await admin.listTopics())).toBe(true);
      const spy = vi.spyOn(globalThis, 'setTimeout');
      await new Promise((r) => setTimeout(r, 500));
      const idleTimers = spy.mock.calls.filter(
        ([, delay]) => typeof delay === 'number' && delay <= 10,
      ).length;
      spy.mockRestore();
      // Unpatched, each connection arms ~one 1 ms timer per millisecond: hundreds in 500 ms.
      expect(
        idleTimers,
        'node_modules/kafkajs is not patched: run `npx patch-package` (npm ci runs it as postinstall)',
      ).toBeLessThan(10);
    } finally {
      await admin.disconnect();
    }
  });
});
