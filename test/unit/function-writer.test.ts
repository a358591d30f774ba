/**
 * The local runtime hands each function its own writer through the entry's `createHandler`
 * (local/functions.ts), from the TypeScript sources and from the bundles CDK deploys alike; the
 * `handler` export Lambda runs keeps the container's producer. The writers here only record what they
 * are asked to write: the broker address leads nowhere, so a write that went to a producer instead
 * would fail.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import type { KafkaSettings } from '../../core/env';
import type { KafkaBatchResponse } from '../../core/msk-event';
import { consumers } from '../../core/topology';
import { loadFunctions } from '../../local/functions';
import { lambdaContext } from '../../local/lambda';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent } from '../../schemas/index';
import { apiRequest } from '../fixtures/api-gateway';
import { framedValue, mskEvent } from '../fixtures/msk';
import { RecordingWriter } from '../support/recording-writer';

const saved = { ...process.env };
afterAll(() => {
  process.env = { ...saved };
});

const context = (name: string) =>
  lambdaContext({ name, timeoutSeconds: 30, memoryMb: 512 }, Date.now() + 30_000);

describe.each([
  { origin: 'sources', bundles: false },
  { origin: 'bundles', bundles: true },
])('local functions from the $origin', ({ bundles }) => {
  it('write through the writer the runtime gives them, one writer per function', async () => {
    const made: { settings: KafkaSettings; writer: RecordingWriter }[] = [];
    const functions = await loadFunctions('127.0.0.1:1', {
      bundles,
      writer: (settings, log) => {
        expect(typeof log).toBe('function');
        const writer = new RecordingWriter();
        made.push({ settings, writer });
        return writer;
      },
    });
    // The producer, each consumer and the analytics function, built with the settings the function
    // reads from its environment.
    expect(made).toHaveLength(1 + consumers.length + 1);
    for (const { settings } of made) {
      expect(settings.brokers).toEqual(['127.0.0.1:1']);
      expect(settings.auth).toBe('plaintext');
    }

    const event = eventExamples.user_deleted[0] as AnyEvent;
    const response = (await functions.producer(
      apiRequest({ stream: 'user', body: JSON.stringify({ ...event, eventId: undefined }) }),
      context('producer'),
    )) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(202);
    const written = made.filter((m) => m.writer.writeCount > 0);
    expect(written).toHaveLength(1);
    expect(written[0]?.writer.messagesTo('user-events')).toHaveLength(1);

    const consumer = functions.consumers.get('user-consumer');
    const batch = mskEvent([{ topic: 'user-events', offset: 7, value: framedValue(event) }]);
    const result = (await consumer?.(batch, context('user-consumer'))) as KafkaBatchResponse;
    expect(result.batchItemFailures).toEqual([]);
    const derived = made.filter((m) => m.writer.messagesTo('cleanup-events').length > 0);
    expect(derived).toHaveLength(1);
    expect(derived[0]?.writer).not.toBe(written[0]?.writer);
  }, 120_000);
});
