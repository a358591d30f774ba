/**
 * Dead letters the handler writes are re-drivable, end to end on the real broker, through the
 * JSON-delivery path of the schema-registry integration (core/topology.ts `schemaRegistry`): a record
 * the mapping validates and delivers as JSON, which the consumer logic (processBatch) dead-letters
 * because of a bug in a deriver; the bug is fixed; `npm run ops -- redrive` writes it back; the
 * mapping accepts it (it is Glue-framed again) and the handler processes it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { describe, expect } from 'vitest';
import { decode, looksFramed } from '../../core/glue-wire-format';
import type { MskEvent, MskRecord } from '../../core/msk-event';
import { contractOfSchemaVersionId, eventRecord, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers, type TopicSpec, topicNamed } from '../../core/topology';
import { processBatch } from '../../lambdas/consumers/consumer';
import { derivers } from '../../lambdas/consumers/flows';
import { ensureTopics } from '../../lambdas/shared/topics';
import { consumerMapping } from '../../local/consumer-mapping';
import type { LocalEventSourceMapping } from '../../local/esm/index';
import { type ConnectedOps, connectOps, opsSettings } from '../../ops/clients';
import { markerTopicOf } from '../../ops/dead-letters';
import { REDRIVEN_FROM_HEADER, redrive } from '../../ops/redrive';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter } from '../../schemas/index';
import { contractOfLocalSchemaVersionId } from '../../schemas/registry';
import { kafkaTest } from '../support/fixtures';
import { durableProducer, readUntil, testKafka, unique } from '../support/kafka-clients';

const it = kafkaTest('redrive-json');
let ops: ConnectedOps;
let mapping: LocalEventSourceMapping | undefined;

it.beforeAll(async ({ brokers }) => {
  ops = await connectOps(opsSettings({ KAFKA_BROKERS: brokers }));
});
// afterAll hooks run before the file fixtures close: the mapping stops before its writer does.
it.afterAll(async () => {
  await mapping?.stop();
  await ops?.close();
});

const ids = schemaVersionIds(undefined);

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in ${timeoutMs} ms`);
    await sleep(100);
  }
}

const recordsIn = async (admin: Admin, topic: string) =>
  (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high) - Number(o.low), 0);

async function committedAll(admin: Admin, spec: ConsumerSpec): Promise<boolean> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(spec.sourceTopic),
    admin.fetchOffsets({ groupId: spec.mapping.consumerGroupId, topics: [spec.sourceTopic] }),
  ]);
  return ends.every((e) => committed?.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
}

describe('re-driving a dead letter the handler wrote', () => {
  it('is accepted by the mapping’s schema validation and processed once the cause is fixed', async ({
    admin,
    brokers,
    kafka,
    writer,
  }) => {
    const userConsumer = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;
    const name = unique('redrive-json');
    const source: TopicSpec = { ...topicNamed('user-events'), name, partitions: 1 };
    const dlq: TopicSpec = { ...topicNamed('user-events.dlq'), name: `${name}.dlq`, partitions: 1 };
    const log: TopicSpec = { ...topicNamed('user-events.dlq.redriven'), name: markerTopicOf(dlq.name) };
    await ensureTopics(admin, [source, dlq, log, topicNamed('email-events')]);
    // The mapping reads the test's own copy of user-events; the handler is the user consumer's logic,
    // writing its dead letters to the test's DLQ (its derived events go to email-events).
    const mappingSpec: ConsumerSpec = {
      ...userConsumer,
      name,
      sourceTopic: name,
      mapping: {
        ...userConsumer.mapping,
        consumerGroupId: name,
        onFailureTopic: dlq.name,
        maximumBatchingWindowSeconds: 0,
      },
    };
    expect(mappingSpec.mapping.schemaRegistry).toEqual({ eventRecordFormat: 'JSON', validateValue: true });
    const handlerSpec: ConsumerSpec = {
      ...userConsumer,
      mapping: { ...userConsumer.mapping, onFailureTopic: dlq.name },
    };
    const deps = {
      spec: handlerSpec,
      writer,
      schemaVersionIds: ids,
      contractOf: contractOfSchemaVersionId(undefined),
    };
    const delivered: MskRecord[] = [];
    mapping = consumerMapping({
      spec: mappingSpec,
      kafka: testKafka(brokers, name),
      handler: async (event: MskEvent, context) => {
        delivered.push(...Object.values(event.records).flat());
        return (await processBatch(event, context, deps)).response;
      },
      writer,
      schemaOf: async (id) => contractOfLocalSchemaVersionId(id),
      bootstrapServers: brokers,
      eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
      retryBackoffMs: 10,
    });

    // A deriver bug: the welcome e-mail loses its address, so the derived event breaks its contract
    // and the handler dead-letters the (valid) source record as DerivationFailed.
    const table = derivers.user_registered as NonNullable<typeof derivers.user_registered>;
    const fixedDeriver = table.welcome_email_sent;
    table.welcome_email_sent = (e) => ({ userId: e.data.userId }) as never;
    try {
      await mapping.start();
      const run = unique('rj');
      const event = {
        ...(eventExamples.user_registered[0] as AnyEvent),
        eventId: crypto.randomUUID(),
        correlationId: run,
      } as AnyEvent;
      const { message } = eventRecord(event, ids);
      const producer = durableProducer(kafka);
      await producer.connect();
      // One partition here, not the six partitionOf() counts with.
      await producer.send({ topic: name, acks: -1, messages: [{ ...message, partition: 0 }] });
      await producer.disconnect();

      await until(
        'the handler dead-letters the record',
        async () => (await recordsIn(admin, dlq.name)) === 1,
      );
      await until('the mapping commits it', () => committedAll(admin, mappingSpec));
      expect(delivered).toHaveLength(1);
      const [letterRecord] = await readUntil(kafka, [dlq.name], () => true, 1);
      const letter = JSON.parse(String(letterRecord?.message.value)) as DeadLetter;
      expect(letter.requestContext.condition).toBe('RecordRejected');
      expect(letter.errorInfo?.errorType).toBe('DerivationFailed');
      const original = Object.values(letter.payload.records)[0]?.[0];
      // The handler got, and dead-lettered, the JSON the mapping delivered: no Glue header.
      expect(looksFramed(Buffer.from(original?.value ?? '', 'base64'))).toBe(false);

      // The fix, then the re-drive.
      table.welcome_email_sent = fixedDeriver;
      const result = await redrive(ops, { dlqTopic: dlq.name });
      expect(result.redriven).toHaveLength(1);
      expect(result.skipped).toEqual([]);

      await until(
        'the mapping reaches the re-driven record',
        async () => (await recordsIn(admin, name)) === 2,
      );
      await until('the mapping commits it', () => committedAll(admin, mappingSpec));
      // Not dead-lettered again (on the old re-drive: DESERIALIZATION_ERROR, the value was not Glue-framed).
      const letters = await readUntil(kafka, [dlq.name], () => true, 2, 2000);
      expect(
        letters.map((m) => (JSON.parse(String(m.message.value)) as DeadLetter).requestContext.condition),
      ).toEqual(['RecordRejected']);
      // Delivered to the handler, as JSON with the schema version it was framed with again.
      expect(delivered).toHaveLength(2);
      const again = delivered[1] as MskRecord;
      expect(JSON.parse(Buffer.from(again.value ?? '', 'base64').toString())).toEqual(event);
      expect(again.valueSchemaMetadata).toEqual({ dataFormat: 'JSON', schemaId: ids('user_registered') });
      expect(
        Buffer.from(
          (again.headers ?? []).find((h) => REDRIVEN_FROM_HEADER in h)?.[REDRIVEN_FROM_HEADER] ?? [],
        ).toString(),
      ).toBe(`${dlq.name}/0/0`);
      // And processed: its welcome e-mail was derived.
      const emails = await readUntil(
        kafka,
        ['email-events'],
        (m) => {
          try {
            return JSON.parse(decode(m.message.value as Buffer).payload.toString()).correlationId === run;
          } catch {
            return false;
          }
        },
        1,
      );
      expect(emails).toHaveLength(1);
      const email = JSON.parse(decode(emails[0]?.message.value as Buffer).payload.toString()) as AnyEvent;
      expect(email).toMatchObject({ eventType: 'welcome_email_sent', causationId: event.eventId });
      // The dead letter kept the schema version the record carried, which re-drive framed it with.
      expect(original?.valueSchemaMetadata).toEqual({ dataFormat: 'JSON', schemaId: ids('user_registered') });
    } finally {
      table.welcome_email_sent = fixedDeriver;
    }
  });
});
