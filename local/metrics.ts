/**
 * The local runtime's Prometheus metrics (`GET /metrics`), with prom-client. Counters and the
 * duration histogram are fed as things happen; topic sizes and consumer lag are read from Kafka at
 * scrape time.
 */
import type { Admin } from 'kafkajs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { consumers, topics } from '../core/topology';
import { lagOf } from '../ops/lag';

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
}
