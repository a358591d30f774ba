/**
 * The bare-client side of the baselines: kafkajs used directly, with kafkajs' defaults except what
 * the comparison needs (acks from all in-sync replicas, the Java-compatible partitioner, the same
 * fetch settings as the local mapping). No validation, no MSK event shaping, no middleware.
 */
import { createHash } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { consumers, topicOfEvent } from '../../core/topology';
import { deriverOf } from '../../lambdas/consumers/flows';
import { contractVersions, type EventType } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';

/**
 * Built here on purpose, not by lambdas/shared/kafka.ts' factory: the baseline is plain kafkajs with
 * its defaults. It is the same patched kafkajs (patches/kafkajs+2.2.4.patch) as everywhere.
 */
export function bareKafka(brokers: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

/** kafkajs' default producer (not idempotent, concurrent requests allowed), murmur2 partitioner. */
export function bareProducer(kafka: Kafka): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
}

const headerCache = new Map<string, Buffer>();
/** The 18-byte Glue header (no compression) of `eventType`'s schema version. */
function glueHeader(eventType: EventType): Buffer {
  let header = headerCache.get(eventType);
  if (!header) {
    header = Buffer.alloc(18);
    header[0] = 0x03;
    Buffer.from(localSchemaVersionId(eventType).replaceAll('-', ''), 'hex').copy(header, 2);
    headerCache.set(eventType, header);
  }
  return header;
}

/** `json` framed in the Glue wire format, by hand. */
export function bareFrame(eventType: EventType, json: string): Buffer {
  return Buffer.concat([glueHeader(eventType), Buffer.from(json)]);
}

export interface BareMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

const NAMESPACE = Buffer.from('3f0b9c528d4e4a71b6a25c9e0d7f1e43', 'hex');
function v5(name: string): string {
  const h = createHash('sha1').update(NAMESPACE).update(name).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const userFlows = consumers.find((c) => c.name === 'user-consumer')?.flows ?? {};

/**
 * The derived records of a framed user event read at `topic/partition/offset`: the same events the
 * user consumer writes (same derivers, ids, keys and headers), built without any checks.
 */
export function bareDerive(
  value: Buffer,
  topic: string,
  _partition: number,
  _offset: string,
  now: string,
): { topic: string; message: BareMessage }[] {
  const source = JSON.parse(value.subarray(18).toString('utf8')) as {
    eventType: EventType;
    eventId: string;
    correlationId: string;
    data: Record<string, unknown>;
  };
  const out: { topic: string; message: BareMessage }[] = [];
  const flows = userFlows[source.eventType] ?? [];
  flows.forEach((d, index) => {
    const derive = deriverOf(source.eventType, d.eventType);
    if (!derive) return;
    const data = derive(source as never) as Record<string, unknown>;
    const event = {
      eventId: v5(`${source.eventId}/${topic}/${d.eventType}/${index}`),
      eventType: d.eventType,
      occurredAt: now,
      source: 'user-consumer',
      correlationId: source.correlationId,
      causationId: source.eventId,
      schemaVersion: contractVersions[d.eventType],
      data,
    };
    const target = topicOfEvent(d.eventType);
    out.push({
      topic: d.topic,
      message: {
        key: `${target.key?.prefix ?? ''}${String(data[target.key?.field ?? 'userId'])}`,
        value: bareFrame(d.eventType, JSON.stringify(event)),
        headers: {
          'content-type': 'application/vnd.aws.glue.schema-registry+json',
          'event-type': d.eventType,
          'correlation-id': source.correlationId,
          'schema-version-id': localSchemaVersionId(d.eventType),
        },
      },
    });
  });
  return out;
}

/** Groups messages by topic for one `sendBatch`. */
export function byTopic(items: readonly { topic: string; message: BareMessage }[]) {
  const topics = new Map<string, BareMessage[]>();
  for (const { topic, message } of items) {
    const list = topics.get(topic);
    if (list) list.push(message);
    else topics.set(topic, [message]);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
