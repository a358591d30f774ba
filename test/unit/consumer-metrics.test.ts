/**
 * The consumers' per-event-type metrics, as the EMF lines CloudWatch reads from the function's
 * output: one line per (topic, event type) of a batch, with that type's nonzero counts, dimensions
 * service, topic and eventType, and nothing carried over from one batch to the next.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchCounts } from '../../lambdas/consumers/consumer';
import { batchMetrics } from '../../lambdas/consumers/metrics';

let lines: Record<string, unknown>[] = [];
const saved = { ...process.env };

beforeEach(() => {
  lines = [];
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    const text = chunk.toString();
    if (text.includes('"_aws"')) lines.push(JSON.parse(text));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
});

const outcome = (
  o: Partial<Record<'received' | 'processed' | 'derived' | 'failed' | 'deadLettered', number>>,
) => ({
  received: 0,
  processed: 0,
  derived: 0,
  failed: 0,
  deadLettered: 0,
  ...o,
});

describe('consumer batch metrics', () => {
  it('writes one EMF line per event type with its nonzero counts, dimensions service, topic, eventType', () => {
    const publish = batchMetrics('user-events', { serviceName: 'user-consumer', namespace: 'Test' });
    const counts: BatchCounts = new Map([
      ['user_registered', outcome({ received: 3, processed: 3, derived: 6 })],
      ['unknown', outcome({ received: 1, deadLettered: 1 })],
    ]);
    publish(counts);
    expect(lines).toHaveLength(2);
    const [registered, unknown] = lines as [Record<string, unknown>, Record<string, unknown>];
    expect(registered).toMatchObject({
      service: 'user-consumer',
      topic: 'user-events',
      eventType: 'user_registered',
      RecordsReceived: 3,
      RecordsProcessed: 3,
      DerivedEventsEmitted: 6,
    });
    expect(registered).not.toHaveProperty('RecordsFailed');
    const directive = (
      registered._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }
    ).CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe('Test');
    expect(directive?.Dimensions.flat().sort()).toEqual(['eventType', 'service', 'topic']);
    expect(unknown).toMatchObject({ eventType: 'unknown', RecordsReceived: 1, RecordsDeadLettered: 1 });
  });

  it('starts every batch from zero, and writes nothing for an event type without counts', () => {
    const publish = batchMetrics('order-events', { serviceName: 'order-consumer', namespace: 'Test' });
    publish(new Map([['order_created', outcome({ received: 5, processed: 5 })]]));
    publish(
      new Map([
        ['order_created', outcome({ received: 2, failed: 2 })],
        ['order_paid', outcome({})],
      ]),
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ eventType: 'order_created', RecordsReceived: 2, RecordsFailed: 2 });
    expect(lines[1]).not.toHaveProperty('RecordsProcessed');
  });
});
