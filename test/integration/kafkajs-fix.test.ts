/**
 * kafkajs 2.2.4 re-arms a 1 ms timer forever on every idle broker connection (tulios/kafkajs#1751);
 * lambdas/shared/kafkajs-fix.ts stops it. Measured on a real connection: timers armed while idle.
 */
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { testKafka } from '../support/kafka-clients';

const brokers = inject('kafkaBrokers');

describe('kafkajs idle timer fix', () => {
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
      expect(idleTimers).toBeLessThan(10);
    } finally {
      await admin.disconnect();
    }
  });
});
