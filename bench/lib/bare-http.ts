/**
 * The baseline of the HTTP and end-to-end benchmarks: a plain node:http server that takes a posted
 * event, frames it by hand and writes it with a bare kafkajs producer (same key, value bytes, headers
 * and acks as the producer function), answering 202 with the record's partition and offset. No
 * validation, no API Gateway event, no middleware.
 */
import { createServer, type Server } from 'node:http';
import type { EventType } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import { bareFrame, bareKafka, bareProducer } from './bare';

export async function bareHttpServer(
  brokers: string,
): Promise<{ server: Server; close: () => Promise<void> }> {
  const producer = bareProducer(bareKafka(brokers, 'bench-bare-http'));
  await producer.connect();
  const server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        eventId: string;
        eventType: EventType;
        correlationId: string;
        data: { userId: string };
      };
      const [meta] = await producer.send({
        topic: 'user-events',
        acks: -1,
        messages: [
          {
            key: `user-${event.data.userId}`,
            value: bareFrame(event.eventType, JSON.stringify(event)),
            headers: {
              'content-type': 'application/vnd.aws.glue.schema-registry+json',
              'event-type': event.eventType,
              'correlation-id': event.correlationId,
              'schema-version-id': localSchemaVersionId(event.eventType),
            },
          },
        ],
      });
      res.writeHead(202, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({
          eventId: event.eventId,
          topic: 'user-events',
          partition: meta?.partition,
          offset: meta?.baseOffset,
        }),
      );
    } catch (error) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (error as Error).message }));
    }
  });
  return { server, close: () => producer.disconnect() };
}
