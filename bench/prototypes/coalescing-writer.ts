/**
 * PROTOTYPE (benchmarks only): what `SharedProducer` in lambdas/shared/kafka.ts could do instead of
 * queueing sends one behind the other. Sends still go out one at a time (kafkajs' idempotent producer
 * needs that), but every batch that arrives while a send is in flight joins the next one, so N
 * concurrent callers cost one round trip instead of N. Per-partition order is kept (batches are
 * concatenated in arrival order) and each caller gets the metadata of its own records: its base
 * offset on a partition is the merged request's base offset plus the records that callers before it
 * put on that partition.
 */
import type { Producer, RecordMetadata } from 'kafkajs';
import type { KafkaWriter, TopicMessages } from '../../lambdas/shared/kafka';

interface Waiting {
  readonly batch: readonly TopicMessages[];
  resolve(metadata: RecordMetadata[]): void;
  reject(error: unknown): void;
}

export class CoalescingWriter implements KafkaWriter {
  private waiting: Waiting[] = [];
  private sending = false;
  /** Sends made and batches they carried, to see how much was merged. */
  sends = 0;
  batches = 0;

  constructor(private readonly producer: Producer) {}

  send(batch: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      const merged = new Map<string, TopicMessages['messages'][number][]>();
      for (const w of group)
        for (const t of w.batch) merged.set(t.topic, [...(merged.get(t.topic) ?? []), ...t.messages]);
      try {
        const metadata = await this.producer.sendBatch({
          acks: -1,
          topicMessages: [...merged].map(([topic, messages]) => ({
            topic,
            messages: messages.map((m) => ({ ...m })),
          })),
        });
        this.sends++;
        this.batches += group.length;
        // Every message carries its partition (the producer function sets it explicitly).
        const next = new Map<string, bigint>(
          metadata.map((m) => [`${m.topicName}/${m.partition}`, BigInt(m.baseOffset ?? '0')]),
        );
        for (const w of group) {
          const mine = new Map<string, { meta: RecordMetadata; count: bigint }>();
          for (const t of w.batch)
            for (const m of t.messages) {
              const key = `${t.topic}/${m.partition}`;
              const entry = mine.get(key);
              if (entry) entry.count++;
              else {
                const base = next.get(key) ?? 0n;
                const meta = metadata.find((x) => `${x.topicName}/${x.partition}` === key);
                if (meta) mine.set(key, { meta: { ...meta, baseOffset: base.toString() }, count: 1n });
              }
            }
          for (const [key, { count }] of mine) next.set(key, (next.get(key) ?? 0n) + count);
          w.resolve([...mine.values()].map((e) => e.meta));
        }
      } catch (error) {
        for (const w of group) w.reject(error);
      }
    }
    this.sending = false;
  }
}
