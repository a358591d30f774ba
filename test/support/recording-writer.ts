/**
 * A KafkaWriter that records what the code under test asks to write, for unit tests of the handler
 * logic (what is derived, dead-lettered, answered). It is not a Kafka stand-in: what Kafka does with
 * the writes is tested against the real broker in test/integration.
 */
import type { RecordMetadata } from 'kafkajs';
import type { KafkaWriter, TopicMessages } from '../../lambdas/shared/kafka';
import { KafkaUnavailableError } from '../../lambdas/shared/kafka';

export class RecordingWriter implements KafkaWriter {
  readonly batches: TopicMessages[][] = [];
  private readonly offsets = new Map<string, bigint>();
  /** When set, every send fails with this error and records nothing. */
  failWith: Error | undefined;

  async send(batch: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    if (this.failWith) throw this.failWith;
    this.batches.push([...batch]);
    const metadata = new Map<string, RecordMetadata>();
    for (const { topic, messages } of batch) {
      for (const m of messages) {
        const partition = m.partition ?? 0;
        const tp = `${topic}-${partition}`;
        const offset = this.offsets.get(tp) ?? 0n;
        this.offsets.set(tp, offset + 1n);
        if (!metadata.has(tp)) {
          metadata.set(tp, { topicName: topic, partition, errorCode: 0, baseOffset: offset.toString() });
        }
      }
    }
    return [...metadata.values()];
  }

  /** Every message written to `topic`, in order. */
  messagesTo(topic: string) {
    return this.batches.flatMap((b) => b.filter((t) => t.topic === topic).flatMap((t) => t.messages));
  }

  get writeCount(): number {
    return this.batches.reduce((n, b) => n + b.reduce((m, t) => m + t.messages.length, 0), 0);
  }

  static unavailable(): RecordingWriter {
    const writer = new RecordingWriter();
    writer.failWith = new KafkaUnavailableError('Kafka did not acknowledge the write within 10 ms');
    return writer;
  }
}
