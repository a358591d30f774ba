/**
 * Cold-start baseline of the producer function: a handler with nothing but kafkajs, which parses the
 * posted event, frames it by hand and writes it with acks=all. Bundled with the same settings as the
 * functions (lib/bundling.ts). Not deployed.
 */
import { Kafka, logLevel } from 'kafkajs';

const kafka = new Kafka({
  clientId: 'bare-producer',
  brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer({ allowAutoTopicCreation: false });
let connected: Promise<void> | undefined;
const header = Buffer.alloc(18);
header[0] = 0x03;
Buffer.from(process.env.BARE_SCHEMA_ID ?? '', 'hex').copy(header, 2);

export async function handler(event: { body: string }) {
  const e = JSON.parse(event.body) as {
    eventId: string;
    eventType: string;
    correlationId: string;
    data: { userId: string };
  };
  connected ??= producer.connect();
  await connected;
  const [meta] = await producer.send({
    topic: 'user-events',
    acks: -1,
    messages: [
      {
        key: `user-${e.data.userId}`,
        value: Buffer.concat([header, Buffer.from(JSON.stringify(e))]),
        headers: { 'event-type': e.eventType, 'correlation-id': e.correlationId },
      },
    ],
  });
  return {
    statusCode: 202,
    body: JSON.stringify({ eventId: e.eventId, partition: meta?.partition, offset: meta?.baseOffset }),
  };
}
