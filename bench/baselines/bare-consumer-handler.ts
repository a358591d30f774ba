/**
 * Cold-start baseline of the consumer functions: a handler with nothing but kafkajs, which reads the
 * JSON values of an MSK event, derives a welcome_email_sent from each user_registered by hand, and
 * writes them with acks=all. Bundled with the same settings as the functions (lib/bundling.ts).
 * Not deployed.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

const kafka = new Kafka({
  clientId: 'bare-consumer',
  brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer({ allowAutoTopicCreation: false });
let connected: Promise<void> | undefined;
const header = Buffer.alloc(18);
header[0] = 0x03;
Buffer.from(process.env.BARE_SCHEMA_ID ?? '', 'hex').copy(header, 2);

interface Source {
  eventId: string;
  correlationId: string;
  data: { userId: string; email: string; name: string };
}

export async function handler(event: { records: Record<string, { value: string }[]> }) {
  const messages = Object.values(event.records)
    .flat()
    .map((record) => {
      const source = JSON.parse(Buffer.from(record.value, 'base64').toString('utf8')) as Source;
      const derived = {
        eventId: randomUUID(),
        eventType: 'welcome_email_sent',
        occurredAt: new Date().toISOString(),
        source: 'bare-consumer',
        correlationId: source.correlationId,
        causationId: source.eventId,
        schemaVersion: 1,
        data: { ...source.data },
      };
      return {
        key: `user-${source.data.userId}`,
        value: Buffer.concat([header, Buffer.from(JSON.stringify(derived))]),
        headers: { 'event-type': derived.eventType, 'correlation-id': source.correlationId },
      };
    });
  connected ??= producer.connect();
  await connected;
  await producer.send({ topic: 'email-events', acks: -1, messages });
  return { batchItemFailures: [] };
}
