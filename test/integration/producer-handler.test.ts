/**
 * The producer endpoint against the real broker: what it answers is where the records are, and they
 * carry the Glue header, the key and the headers; an unreachable Kafka gives 503.
 */
import type { Kafka } from 'kafkajs';
import { describe, expect } from 'vitest';
import { decode } from '../../core/glue-wire-format';
import { schemaVersionIds } from '../../core/records';
import { handleRequest } from '../../lambdas/producer/producer';
import { createKafka, SharedProducer } from '../../lambdas/shared/kafka';
import { ensureTopics } from '../../lambdas/shared/topics';
import { eventExamples } from '../../schemas/examples';
import type { EventOf } from '../../schemas/index';
import { contractOfLocalSchemaVersionId } from '../../schemas/registry';
import { apiRequest } from '../fixtures/api-gateway';
import { kafkaTest } from '../support/fixtures';
import { unique } from '../support/kafka-clients';

const it = kafkaTest('producer-it');

it.beforeAll(async ({ admin }) => {
  await ensureTopics(admin);
});

/** The record at exactly `partition`/`offset` of `topic`. */
async function recordAt(kafka: Kafka, topic: string, partition: number, offset: string) {
  const consumer = kafka.consumer({ groupId: unique('at'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const found = new Promise<import('kafkajs').KafkaMessage>((resolve) => {
    consumer.run({
      eachMessage: async ({ partition: p, message }) => {
        if (p === partition && message.offset === offset) resolve(message);
      },
    });
  });
  consumer.seek({ topic, partition, offset });
  const message = await found;
  await consumer.disconnect();
  return message;
}

describe('producer handler on the real broker', () => {
  it('puts each accepted event at the partition and offset it answers, Glue-framed, keyed and with headers', async ({
    kafka,
    writer,
  }) => {
    const run = unique('prod');
    const order = eventExamples.order_created[0] as EventOf<'order_created'>;
    const events = Array.from({ length: 20 }, (_, i) => ({
      ...order,
      eventId: crypto.randomUUID(),
      correlationId: `${run}-${i}`,
      data: { ...order.data, orderId: `o-${run}-${i % 5}` },
    }));
    const response = await handleRequest(
      apiRequest({ stream: 'order', batch: true, body: JSON.stringify({ events }) }),
      {
        writer,
        schemaVersionIds: schemaVersionIds(undefined),
      },
    );
    expect(response.statusCode).toBe(202);
    const { results } = JSON.parse(response.body) as {
      results: { eventId: string; topic: string; partition: number; offset: string }[];
    };
    expect(results).toHaveLength(20);
    for (const [i, result] of results.entries()) {
      if (i % 4 !== 0) continue; // a sample keeps the test quick
      const message = await recordAt(kafka, result.topic, result.partition, result.offset);
      const { schemaVersionId, payload } = decode(message.value as Buffer);
      expect(contractOfLocalSchemaVersionId(schemaVersionId)).toBe('order_created');
      expect(JSON.parse(payload.toString())).toEqual(events[i]);
      expect(message.key?.toString()).toBe(`order-${events[i]?.data.orderId}`);
      expect(message.headers?.['event-type']?.toString()).toBe('order_created');
      expect(message.headers?.['correlation-id']?.toString()).toBe(`${run}-${i}`);
    }
  });

  it('answers 503 with Retry-After, in bounded time, when no broker answers', async () => {
    const nowhere = new SharedProducer(
      // Connection errors are expected here; keep them out of the test output.
      createKafka(
        { brokers: ['127.0.0.1:1'], auth: 'plaintext', region: undefined, clientId: 'nowhere' },
        () => {},
      ),
      { sendTimeoutMs: 3000 },
    );
    const started = Date.now();
    const response = await handleRequest(
      apiRequest({ body: JSON.stringify(eventExamples.user_registered[0]) }),
      {
        writer: nowhere,
        schemaVersionIds: schemaVersionIds(undefined),
      },
    );
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('5');
    expect(Date.now() - started).toBeLessThan(10_000);
    await nowhere.disconnect();
  });
});
