/**
 * The runtime's Prometheus metrics per topic and outcome (local/metrics.ts): what the functions'
 * writer and the mappings report, as GET /metrics exposes it. The wiring into the runtime, on the real
 * broker, is checked in test/integration/local-runtime.test.ts.
 */
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { analytics, consumers } from '../../core/topology';
import { RuntimeMetrics } from '../../local/metrics';
import { RecordingWriter } from '../support/recording-writer';

/** The samples of one metric as `name{labels} value` lines, without the gauges that read Kafka. */
async function samples(metrics: RuntimeMetrics, name: string): Promise<string[]> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => v.value !== 0)
    .map((v) => {
      const labels = Object.entries(v.labels)
        .map(([k, l]) => `${k}="${l}"`)
        .join(',');
      return `${(v as { metricName?: string }).metricName ?? name}{${labels}} ${v.value}`;
    })
    .sort();
}

const message = (key: string) => ({ key, value: Buffer.from('{}') });
const userConsumer = consumers.find((c) => c.sourceTopic === 'user-events');

describe('runtime metrics', () => {
  it('counts what a function writes per topic as produced, its dead letters on their source topic, and times each send', async () => {
    const metrics = new RuntimeMetrics({} as Admin);
    const recording = new RecordingWriter();
    const writer = metrics.observeWriter(recording);
    await writer.send([
      { topic: 'user-events', messages: [message('a'), message('b')] },
      { topic: 'email-events', messages: [message('c')] },
    ]);
    await writer.send([{ topic: 'user-events.dlq', messages: [message('d')] }]);
    // What was written went through, unchanged.
    expect(recording.writeCount).toBe(4);
    expect(await samples(metrics, 'kafka_messages_total')).toEqual([
      'kafka_messages_total{topic="email-events",outcome="produced"} 1',
      'kafka_messages_total{topic="user-events",outcome="dead_lettered"} 1',
      'kafka_messages_total{topic="user-events",outcome="produced"} 2',
    ]);
    const latency = await samples(metrics, 'kafka_message_produce_duration_seconds');
    // One observation per topic and send.
    expect(latency.filter((l) => l.includes('_count'))).toEqual([
      'kafka_message_produce_duration_seconds_count{topic="email-events"} 1',
      'kafka_message_produce_duration_seconds_count{topic="user-events"} 1',
      'kafka_message_produce_duration_seconds_count{topic="user-events.dlq"} 1',
    ]);
  });

  it('counts a failed write as produce_failed and passes its error on', async () => {
    const metrics = new RuntimeMetrics({} as Admin);
    const recording = new RecordingWriter();
    recording.failWith = new Error('broker gone');
    const writer = metrics.observeWriter(recording);
    await expect(
      writer.send([{ topic: 'payment-events', messages: [message('a'), message('b')] }]),
    ).rejects.toThrow('broker gone');
    expect(await samples(metrics, 'kafka_messages_total')).toEqual([
      'kafka_messages_total{topic="payment-events",outcome="produce_failed"} 2',
    ]);
    expect(await samples(metrics, 'kafka_message_produce_duration_seconds')).toContain(
      'kafka_message_produce_duration_seconds_count{topic="payment-events"} 1',
    );
  });

  it('counts per topic what the mappings consume and dead-letter, and what the analytics function counted', async () => {
    if (!userConsumer) throw new Error('no consumer of user-events');
    const metrics = new RuntimeMetrics({} as Admin);
    const consumer = metrics.mappingObserver(userConsumer);
    consumer.invoked?.(userConsumer.name, 5, 12, true);
    consumer.processed?.(userConsumer.name, 5);
    consumer.deadLettered?.(userConsumer.name, 'RetriesExhausted', 2);
    const counting = metrics.mappingObserver({ name: analytics.name, sourceTopic: 'order-events' });
    counting.invoked?.(analytics.name, 4, 30, true);
    // Three processed, the fourth reported failed (partial batch response), then processed on retry.
    counting.processed?.(analytics.name, 3);
    counting.invoked?.(analytics.name, 1, 10, true);
    counting.processed?.(analytics.name, 1);
    expect(await samples(metrics, 'kafka_messages_total')).toEqual([
      'kafka_messages_total{topic="order-events",outcome="consumed"} 5',
      'kafka_messages_total{topic="order-events",outcome="counted"} 4',
      'kafka_messages_total{topic="user-events",outcome="consumed"} 5',
      'kafka_messages_total{topic="user-events",outcome="dead_lettered"} 2',
    ]);
    // The metrics per mapping are unchanged.
    expect(await samples(metrics, 'records_consumed_total')).toEqual([
      `records_consumed_total{mapping="${analytics.name}"} 5`,
      `records_consumed_total{mapping="${userConsumer.name}"} 5`,
    ]);
    expect(await samples(metrics, 'mapping_dead_letters_total')).toEqual([
      `mapping_dead_letters_total{mapping="${userConsumer.name}",condition="RetriesExhausted"} 2`,
    ]);
  });
});
