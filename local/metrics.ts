/**
 * The local runtime's Prometheus metrics (`GET /metrics`), with prom-client. Counters and the
 * duration histograms are fed as things happen; topic sizes and consumer lag are read from Kafka at
 * scrape time. As the guide's Prometheus section has them: records per topic and outcome
 * (`kafka_messages_total`: produced, consumed, dead-lettered, counted by the analytics) and the
 * produce latency per topic (`kafka_message_produce_duration_seconds`).
 */
import type { Admin } from 'kafkajs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { KafkaWriter } from '../core/kafka-records';
import { analytics, consumers, topics } from '../core/topology';
import { lagOf } from '../ops/lag';
import type { MappingObserver } from './esm/index';

/** What happened to records of a topic, the `outcome` label of `kafka_messages_total`. */
type Outcome = 'produced' | 'produce_failed' | 'consumed' | 'dead_lettered' | 'counted';

/** The source topic of each dead-letter topic (`<topic>.dlq`). */
const dlqSources = new Map(
  topics.filter((t) => t.carries === 'dead_letter').map((t) => [t.name, t.name.replace(/\.dlq$/, '')]),
);

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'api_requests_total',
    help: 'Requests to the producer API by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly produced = new Counter({
    name: 'events_produced_total',
    help: 'Events accepted by the producer API and written to Kafka',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly consumed = new Counter({
    name: 'records_consumed_total',
    help: 'Records delivered to a consumer function by its event-source mapping',
    labelNames: ['mapping'] as const,
    registers: [this.registry],
  });
  readonly invocations = new Counter({
    name: 'invocations_total',
    help: 'Consumer invocations by outcome',
    labelNames: ['mapping', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly filtered = new Counter({
    name: 'records_filtered_total',
    help: 'Records skipped by the mapping filters',
    labelNames: ['mapping'] as const,
    registers: [this.registry],
  });
  readonly mappingDeadLetters = new Counter({
    name: 'mapping_dead_letters_total',
    help: 'Records the event-source mapping sent to its on-failure destination, by condition',
    labelNames: ['mapping', 'condition'] as const,
    registers: [this.registry],
  });
  readonly messages = new Counter({
    name: 'kafka_messages_total',
    help:
      'Records per topic and outcome: produced (written by the producer API or a consumer function; produce_failed when the write failed), ' +
      'consumed (delivered to a function by an event-source mapping, retries included), dead_lettered (a record of the topic sent to its ' +
      'dead-letter topic, by the mapping or by the function), counted (processed by the analytics function, which adds each eventId to the daily totals once)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly produceDuration = new Histogram({
    name: 'kafka_message_produce_duration_seconds',
    help: 'Time from a function handing records to its Kafka writer until the broker acknowledged them (acks=all), per topic',
    labelNames: ['topic'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'handler_duration_seconds',
    help: 'Consumer handler duration per invocation',
    labelNames: ['mapping'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(admin: Admin) {
    collectDefaultMetrics({ register: this.registry });
    const registry = this.registry;
    new Gauge({
      name: 'kafka_topic_messages',
      help: 'Records in each topic (sum over partitions of high watermark minus low watermark); derived events and dead letters included',
      labelNames: ['topic', 'kind'] as const,
      registers: [registry],
      async collect() {
        for (const t of topics) {
          const offsets = await admin.fetchTopicOffsets(t.name).catch(() => []);
          const count = offsets.reduce((n, o) => n + Number(BigInt(o.high) - BigInt(o.low)), 0);
          const kind =
            t.carries === 'dead_letter'
              ? 'dead-letter'
              : t.carries === 'redrive_log'
                ? 'redrive-log'
                : consumers.some((c) => c.sourceTopic === t.name)
                  ? 'source'
                  : 'derived';
          this.set({ topic: t.name, kind }, count);
        }
      },
    });
    new Gauge({
      name: 'mapping_offset_lag',
      help: 'Records each event-source mapping is behind (OffsetLag in AWS)',
      labelNames: ['mapping'] as const,
      registers: [registry],
      async collect() {
        for (const c of consumers)
          this.set({ mapping: c.name }, await lagOf(admin, c.mapping.consumerGroupId, c.sourceTopic));
      },
    });
  }

  /**
   * `writer`, observed: each send counts its records per topic as produced (dead letters as
   * dead-lettered on their source topic) or, when it throws, as produce_failed, and times it per topic.
   */
  observeWriter(writer: KafkaWriter): KafkaWriter {
    return {
      send: async (batch) => {
        const started = performance.now();
        const record = (outcome: Outcome) => {
          const seconds = (performance.now() - started) / 1000;
          for (const { topic, messages } of batch) {
            const source = dlqSources.get(topic);
            if (outcome === 'produced' && source !== undefined)
              this.messages.inc({ topic: source, outcome: 'dead_lettered' }, messages.length);
            else this.messages.inc({ topic, outcome }, messages.length);
          }
          for (const topic of new Set(batch.map((t) => t.topic)))
            this.produceDuration.observe({ topic }, seconds);
        };
        try {
          const written = await writer.send(batch);
          record('produced');
          return written;
        } catch (error) {
          record('produce_failed');
          throw error;
        }
      },
    };
  }

  /**
   * What a mapping reports, counted by mapping (the existing metrics) and by its source topic: records
   * consumed and dead-lettered and, for the analytics function's mappings, counted.
   */
  mappingObserver(spec: { readonly name: string; readonly sourceTopic: string }): MappingObserver {
    const topic = spec.sourceTopic;
    return {
      invoked: (mapping, records, durationMs, ok) => {
        this.consumed.inc({ mapping }, records);
        this.invocations.inc({ mapping, outcome: ok ? 'ok' : 'error' });
        this.duration.observe({ mapping }, durationMs / 1000);
        this.messages.inc({ topic, outcome: 'consumed' }, records);
      },
      processed: (_mapping, records) => {
        if (spec.name === analytics.name) this.messages.inc({ topic, outcome: 'counted' }, records);
      },
      deadLettered: (mapping, condition, records) => {
        this.mappingDeadLetters.inc({ mapping, condition }, records);
        this.messages.inc({ topic, outcome: 'dead_lettered' }, records);
      },
      filtered: (mapping, records) => this.filtered.inc({ mapping }, records),
    };
  }
}
