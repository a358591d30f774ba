/**
 * The local runtime's functions: consumers built with a wrapped writer of derived events and dead
 * letters (the resilience tests inject failures through it), without any hook in the deployed code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBatchResponse, MskEvent } from '../../core/msk-event';
import { analytics, consumers } from '../../core/topology';
import { KafkaUnavailableError } from '../../lambdas/shared/kafka';
import { type LoadedFunctions, loadFunctions } from '../../local/functions';
import { type AsyncHandler, lambdaContext } from '../../local/lambda';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent } from '../../schemas/index';
import { framedValue, mskEvent } from '../fixtures/msk';
import { withInjectedFailures } from '../support/chaos-writer';
import { RecordingWriter } from '../support/recording-writer';

const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

const registered = eventExamples.user_registered[0] as AnyEvent;
const event = () =>
  mskEvent([{ topic: 'user-events', partition: 0, offset: 3, key: 'u-1', value: framedValue(registered) }]);
const context = () =>
  lambdaContext({ name: 'user-consumer', timeoutSeconds: 30, memoryMb: 512 }, Date.now() + 30_000);

describe('loadFunctions with wrapConsumerWriter', () => {
  const writers = new Map<string, RecordingWriter>();
  let functions: LoadedFunctions;
  beforeAll(async () => {
    // Port 1: nothing listens, so a write that bypassed the wrapper would fail rather than land.
    functions = await loadFunctions('127.0.0.1:1', {
      wrapConsumerWriter: (_producer, consumer) => {
        const writer = new RecordingWriter();
        writers.set(consumer, writer);
        return writer;
      },
    });
  }, 60_000);

  it('hands every consumer, the analytics function included, its own wrapped writer', () => {
    expect([...writers.keys()].sort()).toEqual([...consumers.map((c) => c.name), analytics.name].sort());
    expect(typeof functions.analytics).toBe('function');
    expect([...functions.consumers.keys()].sort()).toEqual(consumers.map((c) => c.name).sort());
  });

  it('sends the consumer’s derived events through the wrapped writer', async () => {
    const handler = functions.consumers.get('user-consumer') as AsyncHandler<MskEvent, KafkaBatchResponse>;
    const response = await handler(event(), context());
    expect(response.batchItemFailures).toEqual([]);
    const writer = writers.get('user-consumer') as RecordingWriter;
    expect(writer.writeCount).toBeGreaterThan(0);
    expect(writer.batches.flat().map((t) => t.topic)).not.toContain('user-events');
  });

  it('refuses bundles, whose handlers take no dependencies', async () => {
    await expect(
      loadFunctions('127.0.0.1:1', { bundles: true, wrapConsumerWriter: (writer) => writer }),
    ).rejects.toThrow(/wrapConsumerWriter cannot be used with bundles/);
  });
});

describe('withInjectedFailures', () => {
  it('fails a send as an unreachable broker would, before anything is written', async () => {
    const inner = new RecordingWriter();
    let injected = 0;
    const writer = withInjectedFailures(inner, 0.5, {
      random: (() => {
        const draws = [0.1, 0.9];
        return () => draws.shift() ?? 0.9;
      })(),
      onInjected: () => {
        injected += 1;
      },
    });
    const batch = [{ topic: 't', messages: [{ key: 'k', value: Buffer.from('v') }] }];
    await expect(writer.send(batch)).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(inner.writeCount).toBe(0);
    await writer.send(batch);
    expect(inner.writeCount).toBe(1);
    expect(injected).toBe(1);
  });

  it.each([0, -0.1, 1.5, Number.NaN])('refuses rate %s', (rate) => {
    expect(() => withInjectedFailures(new RecordingWriter(), rate)).toThrow(
      /rate must be above 0 and at most 1/,
    );
  });
});
