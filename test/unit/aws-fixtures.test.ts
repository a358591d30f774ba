/**
 * The handler and the local event-source mapping held to the shapes AWS itself published
 * (test/fixtures/aws/, each sample with its source and date in its README): invocation events from the
 * Lambda developer guide, aws-lambda-go, aws-lambda-java-libs, aws-lambda-dotnet and Powertools; the
 * record Lambda writes to a Kafka on-failure destination; the partial batch response.
 */
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { deadLetterFor, PoisonRecord } from '../../core/dead-letter';
import { decodeMskEvent, type MskEvent, type MskRecord } from '../../core/msk-event';
import { contractOfSchemaVersionId, schemaVersionIds } from '../../core/records';
import { type ConsumerSpec, consumers } from '../../core/topology';
import { type ConsumerDependencies, processBatch } from '../../lambdas/consumers/consumer';
import { toMskEvent, toMskRecord } from '../../local/esm/msk-records';
import { itemFailures } from '../../local/esm/poller';
import { localFunctionArn } from '../../local/lambda';
import { DEAD_LETTER_CONDITIONS } from '../../schemas/dead-letter';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter } from '../../schemas/index';
import { checkContract } from '../../schemas/validator';
import * as aws from '../fixtures/aws/index';
import { framedValue, invocation, mskEvent } from '../fixtures/msk';
import { RecordingWriter } from '../support/recording-writer';

const userConsumer = consumers.find((c) => c.name === 'user-consumer') as ConsumerSpec;

const events: [string, aws.LooseKafkaEvent][] = [
  ['Lambda guide, with-msk.html', aws.lambdaDgWithMsk],
  ['Lambda guide, self-managed Kafka (2022)', aws.lambdaDgWithKafkaSelfManaged2022],
  ['aws-lambda-go, signed header bytes', aws.awsLambdaGoSignedHeaderBytes],
  ['aws-lambda-java-tests, key absent', aws.awsLambdaJavaTestsKeyAbsent],
  ['aws-lambda-dotnet, several headers', aws.awsLambdaDotnetMultipleHeaders],
  ['Powertools Python, MSK with schema metadata', aws.powertoolsPythonMskSchemaMetadata],
  ['Powertools Python, self-managed', aws.powertoolsPythonSelfManaged],
  ['Powertools TypeScript, key variants', aws.powertoolsTsKeyVariants],
  ['Powertools TypeScript, protobuf schema metadata', aws.powertoolsTsProtobufSchemaMetadata],
  ['Powertools TypeScript, Glue protobuf', aws.powertoolsTsProtobufGlue],
  ['Powertools TypeScript, Confluent protobuf', aws.powertoolsTsProtobufConfluent],
  ['Powertools TypeScript, empty headers', aws.powertoolsTsEmptyHeaders],
  ['derived, LOG_APPEND_TIME', aws.derivedLogAppendTime],
];

/** The published records, with the one published header shape this project does not read skipped. */
const recordsOf = (event: aws.LooseKafkaEvent) => Object.values(event.records).flat();

/** Every record of the fixture moved onto the user consumer's topic, everything else as published. */
function onUserEvents(event: aws.LooseKafkaEvent): MskEvent {
  const records: Record<string, aws.LooseKafkaRecord[]> = {};
  for (const [key, list] of Object.entries(event.records)) {
    records[key.replace(/^.*-(\d+)$/, 'user-events-$1')] = list.map((r) => ({ ...r, topic: 'user-events' }));
  }
  return { ...event, records } as unknown as MskEvent;
}

function deps(writer = new RecordingWriter()): ConsumerDependencies & { writer: RecordingWriter } {
  return {
    spec: userConsumer,
    writer,
    schemaVersionIds: schemaVersionIds(undefined),
    contractOf: contractOfSchemaVersionId(undefined),
    now: () => new Date('2026-11-30T12:00:00.000Z'),
  };
}

describe('published MSK events', () => {
  it.each(events)(
    '%s: the handler reads every record and dead-letters what is not ours, in AWS layout',
    async (_, fixture) => {
      const d = deps();
      const event = onUserEvents(fixture);
      const total = recordsOf(fixture).length;
      const { response } = await processBatch(event, invocation, d);
      expect(response).toEqual({ batchItemFailures: [] });
      // None of the samples holds one of our events: each is dead-lettered, none lost, none crashed.
      const letters = d.writer.messagesTo('user-events.dlq');
      expect(letters).toHaveLength(total);
      // In partition order, each partition in offset order (a stable sort: samples repeat offsets).
      const inOrder = Object.values(fixture.records).flatMap((list) =>
        [...list].sort((a, b) => Number(a.offset) - Number(b.offset)),
      );
      for (const [i, message] of letters.entries()) {
        const letter = JSON.parse(message.value.toString()) as DeadLetter;
        expect(checkContract('dead_letter', letter)).toEqual([]);
        const [original] = Object.values(letter.payload.records)[0] ?? [];
        const published = inOrder[i];
        expect(original?.offset).toBe(published?.offset);
        // The failed record travels as received: value, key and header bytes unchanged.
        expect(original?.value ?? null).toEqual(published?.value ?? null);
        expect(original?.key ?? null).toEqual(published?.key ?? null);
        expect(original?.headers).toEqual(published?.headers ?? []);
      }
    },
  );

  it.each(events)('%s: header bytes decode the same whether signed or not', (_, fixture) => {
    for (const record of decodeMskEvent(onUserEvents(fixture))) {
      for (const header of record.raw.headers ?? []) {
        for (const [name, bytes] of Object.entries(header)) {
          const unsigned = bytes.map((b) => b & 0xff);
          expect(record.headers.get(name)?.some((h) => h.equals(Buffer.from(unsigned)))).toBe(true);
        }
      }
    }
  });
});

describe('the local mapping builds events as AWS does', () => {
  const published = aws.lambdaDgWithMsk;
  const sample = recordsOf(published)[0] as aws.LooseKafkaRecord;

  /** The message a kafkajs consumer reads for the published record. */
  const asRead = (r: aws.LooseKafkaRecord, headers: KafkaMessage['headers']): KafkaMessage =>
    ({
      key: r.key ? Buffer.from(r.key, 'base64') : null,
      value: r.value ? Buffer.from(r.value, 'base64') : null,
      timestamp: String(r.timestamp),
      offset: String(r.offset),
      headers,
      attributes: 0,
      size: 0,
    }) as KafkaMessage;

  it('has the fields of the Lambda guide example, with the same types', () => {
    const local = toMskRecord(sample.topic as string, Number(sample.partition), asRead(sample, {}));
    const shape = (r: object) =>
      Object.fromEntries(
        Object.entries(r)
          .filter(([k]) => k !== 'headers')
          .map(([k, v]) => [k, v === null ? 'null' : typeof v]),
      );
    expect(shape(local)).toEqual(shape(sample));
    const event = toMskEvent(
      [local],
      published.eventSourceArn as string,
      published.bootstrapServers as string,
    );
    expect(Object.keys(event).sort()).toEqual(Object.keys(published).sort());
    expect(Object.keys(event.records)).toEqual(Object.keys(published.records));
  });

  it('gives header bytes as Java signed bytes, as aws-lambda-go and aws-lambda-dotnet samples carry them', () => {
    for (const fixture of [aws.awsLambdaGoSignedHeaderBytes, aws.awsLambdaDotnetMultipleHeaders]) {
      for (const r of recordsOf(fixture)) {
        const headers: Record<string, Buffer[]> = {};
        for (const h of r.headers ?? [])
          for (const [name, bytes] of Object.entries(h))
            headers[name] = [...(headers[name] ?? []), Buffer.from((bytes as number[]).map((b) => b & 0xff))];
        const local = toMskRecord(r.topic as string, Number(r.partition), asRead(r, headers));
        // Kafka keeps headers in order; kafkajs groups a repeated name, so compare per name.
        const byName = (list: readonly Record<string, readonly number[]>[]) =>
          list.flatMap((h) => Object.entries(h)).sort(([a], [b]) => a.localeCompare(b));
        expect(byName(local.headers ?? [])).toEqual(byName(r.headers as Record<string, number[]>[]));
        expect(local.headers?.flatMap((h) => Object.values(h).flat()).some((b) => b < 0)).toBe(true);
      }
    }
  });

  it('stamps LOG_APPEND_TIME records as AWS does', () => {
    const [r] = recordsOf(aws.derivedLogAppendTime) as [aws.LooseKafkaRecord];
    const local = toMskRecord(r.topic as string, Number(r.partition), asRead(r, {}), true);
    expect(local.timestampType).toBe(r.timestampType);
  });
});

describe('partial batch response', () => {
  const batch = [
    { delivered: { topic: 'mytopic', partition: 0, offset: 15 } as MskRecord },
    { delivered: { topic: 'topic-partition_number', partition: 0, offset: 100 } as MskRecord },
  ];

  it('the handler answers in the key the current Lambda guide documents', async () => {
    const d = deps(RecordingWriter.unavailable());
    const registered = framedValue(eventExamples.user_registered[0] as AnyEvent);
    const { response } = await processBatch(
      mskEvent([{ topic: 'user-events', offset: 15, value: registered }]),
      invocation,
      d,
    );
    const [documented] = aws.batchResponseLambdaDgCurrent.batchItemFailures;
    expect(response.batchItemFailures).toHaveLength(1);
    for (const failure of response.batchItemFailures) {
      expect(Object.keys(failure.itemIdentifier).sort()).toEqual(
        Object.keys(documented?.itemIdentifier ?? {}).sort(),
      );
      expect(failure.itemIdentifier).toEqual({ partition: 'user-events-0', offset: 15 });
    }
  });

  it('the local mapping reads the documented response and the Rust runtime test output', () => {
    const current = JSON.parse(
      JSON.stringify(aws.batchResponseLambdaDgCurrent).replace(
        'topic-partition_number',
        'topic-partition_number-0',
      ),
    );
    expect(itemFailures(current, batch)).toEqual({ lowest: 1 });
    expect(
      itemFailures(aws.batchResponseRustRuntimePr1164 as never, [
        { delivered: { topic: 'some.topic', partition: 3, offset: 42 } as MskRecord },
      ]),
    ).toEqual({ lowest: 0 });
  });

  it('fails the whole batch, saying why, for the earlier revision spelling and anything else Lambda cannot read', () => {
    const earlier = JSON.parse(
      JSON.stringify(aws.batchResponseLambdaDgEarlier).replace(
        'topic-partition_number',
        'topic-partition_number-0',
      ),
    );
    expect(itemFailures(earlier, batch)).toEqual({
      invalid: expect.stringMatching(/"topic-partition".*Lambda reads "partition"/),
    });
    expect(
      itemFailures(
        { batchItemFailures: [{ itemIdentifier: { partition: 'mytopic-0', offset: '15' } }] } as never,
        batch,
      ),
    ).toHaveProperty('invalid');
    expect(
      itemFailures(
        { batchItemFailures: [{ itemIdentifier: { partition: 'mytopic-0', offset: 16 } }] },
        batch,
      ),
    ).toEqual({
      invalid: expect.stringMatching(/not in the batch/),
    });
    expect(itemFailures({ batchItemFailures: [{}] } as never, batch)).toHaveProperty('invalid');
    // Empty or absent: success (kafka-retry-configurations.html, "Important").
    expect(itemFailures(undefined, batch)).toEqual({ lowest: -1 });
    expect(itemFailures({ batchItemFailures: [] }, batch)).toEqual({ lowest: -1 });
    expect(itemFailures({} as never, batch)).toEqual({ lowest: -1 });
  });
});

describe('dead letters keep the layout of the record Lambda writes to a Kafka destination', () => {
  const documented = aws.kafkaDestinationRecord;
  const keysOf = (o: unknown) => Object.keys(o as object).sort();
  const fixtureEvent = onUserEvents(aws.lambdaDgWithMsk);
  const [record] = decodeMskEvent(fixtureEvent);

  it.each([
    ['the handler', invocation],
    [
      'the local mapping',
      {
        awsRequestId: 'r',
        invokedFunctionArn: localFunctionArn('user-consumer'),
        functionName: 'user-consumer',
      },
    ],
  ])('%s: every field AWS writes, functionArn qualified as AWS qualifies it', (_, who) => {
    const letter = deadLetterFor(
      record as NonNullable<typeof record>,
      fixtureEvent,
      new PoisonRecord('RetriesExhausted', 'failed', 'RetriesExhausted'),
      who,
      new Date(),
      {
        approximateInvokeCount: 3,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      },
    );
    expect(keysOf(letter.requestContext)).toEqual(keysOf(documented.requestContext));
    expect(keysOf(letter.responseContext)).toEqual(keysOf(documented.responseContext));
    expect(keysOf(letter.KafkaBatchInfo)).toEqual(keysOf(documented.KafkaBatchInfo));
    expect(keysOf(letter.KafkaBatchInfo.recordInfo)).toEqual(
      keysOf((documented.KafkaBatchInfo as { recordInfo: object }).recordInfo),
    );
    expect(keysOf(letter.payload)).toEqual(keysOf(documented.payload));
    // Everything else is the project's own addition, listed in docs/local-vs-aws.md.
    expect(keysOf(letter).filter((k) => !(k in documented))).toEqual(['errorInfo']);
    const qualifier = (arn: string) => arn.split(':').slice(7);
    expect(qualifier(letter.requestContext.functionArn)).toEqual(
      qualifier(documented.requestContext.functionArn as string),
    );
    expect(typeof letter.KafkaBatchInfo.recordInfo.offset).toBe(
      typeof (documented.KafkaBatchInfo as { recordInfo: { offset: unknown } }).recordInfo.offset,
    );
    expect(letter.KafkaBatchInfo.batchSize).toBe(documented.KafkaBatchInfo.batchSize);
  });

  it('a record too large for a payload: responseContext null, as kafka-on-failure.html documents', () => {
    const letter = deadLetterFor(
      record as NonNullable<typeof record>,
      fixtureEvent,
      new PoisonRecord('MaximumPayloadSizeExceeded', 'too large', 'MaximumPayloadSizeExceeded'),
      invocation,
      new Date(),
      { approximateInvokeCount: 0, responseContext: null },
    );
    expect(letter.responseContext).toBe(aws.sqsSnsRecordMaximumPayloadSizeExceeded.responseContext);
    expect(letter.requestContext.condition).toBe(
      aws.sqsSnsRecordMaximumPayloadSizeExceeded.requestContext.condition,
    );
  });
});

describe('condition names', () => {
  it('the dead-letter contract admits every condition AWS documents for Kafka on-failure records', () => {
    const documented = [
      aws.kafkaDestinationRecord,
      aws.sqsSnsRecordRetryAttemptsExhausted,
      aws.sqsSnsRecordMaximumPayloadSizeExceeded,
      aws.s3RecordRetryAttemptsExhausted,
    ].map((r) => r.requestContext.condition as string);
    expect(documented.length).toBe(4);
    for (const condition of documented) expect(DEAD_LETTER_CONDITIONS).toContain(condition);
  });
});

describe('the documented response for the guide example', () => {
  it('is read by the local mapping as a failure at that record', () => {
    const [record] = recordsOf(aws.lambdaDgWithMsk) as [aws.LooseKafkaRecord];
    const batch = [{ delivered: { ...record, partition: Number(record.partition) } as unknown as MskRecord }];
    expect(itemFailures(aws.batchResponseForLambdaDgWithMsk as never, batch)).toEqual({ lowest: 0 });
  });
});
