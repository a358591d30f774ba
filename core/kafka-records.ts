/**
 * What the code writes to Kafka, independent of the client library: messages per topic and the writer
 * that sends them. lambdas/shared/kafka.ts implements the writer with kafkajs; tests pass their own.
 */

/** Header values of a message (kafkajs' `IHeaders`). */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface OutgoingMessage {
  readonly key: Buffer | string | null;
  readonly value: Buffer;
  readonly headers?: MessageHeaders;
  /** Explicit partition; otherwise the Java-compatible murmur2 partitioner picks one from the key. */
  readonly partition?: number;
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

/** Where a partition's records of one send landed (kafkajs' `RecordMetadata`). */
export interface WrittenRecords {
  topicName: string;
  partition: number;
  errorCode: number;
  offset?: string;
  timestamp?: string;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

/** What callers need of a producer; tests and benchmarks may pass their own. */
export interface KafkaWriter {
  /** Writes every message, or throws `KafkaUnavailableError` (lambdas/shared/kafka.ts). */
  send(batch: readonly TopicMessages[]): Promise<WrittenRecords[]>;
}
