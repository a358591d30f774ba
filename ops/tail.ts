/**
 * `tail`: follows a topic like `kafka-console-consumer`, from its end (or its start with
 * `fromBeginning`), until `limit` records were shown or the caller aborts. It reads as a throw-away
 * consumer group that commits nothing, so it never moves a mapping's position.
 */
import { randomUUID } from 'node:crypto';
import type { OpsClients } from './clients';
import { OpsError } from './clients';
import { type RecordView, recordView } from './decode';
import { existingTopics, toReadRecord } from './read';

export interface TailOptions {
  readonly topic: string;
  /** Start at the oldest record instead of the next one written. */
  readonly fromBeginning?: boolean;
  /** Stop after this many records. @default no limit */
  readonly limit?: number;
  /** Stops the tail (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Called for each record, in order within each partition. */
  readonly onRecord: (record: RecordView) => void;
}

/** Follows a topic; resolves with the number of records shown once `limit` is reached or on abort. */
export async function tail(clients: OpsClients, options: TailOptions): Promise<number> {
  if (!(await existingTopics(clients.admin)).has(options.topic)) {
    throw new OpsError(`no topic named "${options.topic}"`);
  }
  if (options.limit === 0 || options.signal?.aborted) return 0;
  let shown = 0;
  let stop: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  const stopped = new Promise<void>((resolve, reject) => {
    stop = resolve;
    fail = reject;
  });
  options.signal?.addEventListener('abort', () => stop(), { once: true });
  const consumer = clients.kafka.consumer({
    groupId: `ops-tail-${randomUUID()}`,
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error);
  });
  try {
    await consumer.connect();
    // A new group with no offsets starts at the earliest offset (fromBeginning) or the latest.
    await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning === true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (options.limit !== undefined && shown >= options.limit) return;
        shown++;
        options.onRecord(recordView(toReadRecord(topic, partition, message)));
        if (options.limit !== undefined && shown >= options.limit) stop();
      },
    });
    await stopped;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return shown;
}
