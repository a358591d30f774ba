/**
 * `npm run ops` on the real broker: tail decodes, dead-letters lists reasons, redrive writes back
 * exactly the originals once (whole DLQ and offset ranges), lag matches committed offsets. Each test
 * has its own topics; dead letters are built by the handlers' own code (core/dead-letter.ts).
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Admin, IHeaders, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deadLetterFor, deadLetterMessage, PoisonRecord } from '../../core/dead-letter';
import { decode } from '../../core/glue-wire-format';
import { decodeMskEvent } from '../../core/msk-event';
import { eventRecord, schemaVersionIds } from '../../core/records';
import { type TopicSpec, topicNamed } from '../../core/topology';
import type { SharedProducer } from '../../lambdas/shared/kafka';
import { ensureTopics } from '../../lambdas/shared/topics';
import { toMskEvent, toMskRecord } from '../../local/esm/msk-records';
import { type ConnectedOps, connectOps, opsSettings } from '../../ops/clients';
import { listDeadLetters, markerTopicOf } from '../../ops/dead-letters';
import type { RecordView } from '../../ops/decode';
import { lagOf, mappingLags, topologyMappings } from '../../ops/lag';
import { main } from '../../ops/ops';
import { REDRIVEN_FROM_HEADER, type RedriveResult, redrive } from '../../ops/redrive';
import { tail } from '../../ops/tail';
import { eventExamples } from '../../schemas/examples';
import type { AnyEvent, DeadLetter } from '../../schemas/index';
import { bootstrapAnswer, fakeAws } from '../support/fake-msk';
import {
  durableProducer,
  type ReadMessage,
  readUntil,
  testKafka,
  testWriter,
  unique,
} from '../support/kafka-clients';

const brokers = inject('kafkaBrokers');
const env = { KAFKA_BROKERS: brokers };
let kafka: Kafka;
let admin: Admin;
let writer: SharedProducer;
let ops: ConnectedOps;

beforeAll(async () => {
  kafka = testKafka(brokers, 'ops-it');
  admin = kafka.admin();
  await admin.connect();
  writer = testWriter(brokers, 'ops-it');
  ops = await connectOps(opsSettings(env));
});
afterAll(async () => {
  await ops?.close();
  await writer?.disconnect();
  await admin?.disconnect();
});

const ids = schemaVersionIds(undefined);

/** A source topic, its DLQ and the DLQ's re-drive log, named for this test only. */
async function topicPair(sourcePartitions = 3, dlqPartitions = 1, withRedriveLog = true) {
  const name = unique('ops');
  const source: TopicSpec = { ...topicNamed('user-events'), name, partitions: sourcePartitions };
  const dlq: TopicSpec = { ...topicNamed('user-events.dlq'), name: `${name}.dlq`, partitions: dlqPartitions };
  const log: TopicSpec = { ...topicNamed('user-events.dlq.redriven'), name: markerTopicOf(dlq.name) };
  await ensureTopics(admin, withRedriveLog ? [source, dlq, log] : [source, dlq]);
  return { source: name, dlq: dlq.name };
}

/** A user_registered event as the producer endpoint writes it (Glue-framed, keyed, with headers). */
function framedEvent(i: number, run: string) {
  const event = {
    ...(eventExamples.user_registered[0] as AnyEvent),
    eventId: crypto.randomUUID(),
    correlationId: `${run}-${i}`,
  } as AnyEvent;
  return { event, message: eventRecord(event, ids).message };
}

/** Writes `messages` to `topic`, then reads them back as stored (offsets, partitions, headers). */
async function writeAndRead(
  topic: string,
  messages: { key: Buffer | string | null; value: Buffer | null; headers?: IHeaders; partition?: number }[],
): Promise<ReadMessage[]> {
  const producer = durableProducer(kafka);
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
  const read = await readUntil(kafka, [topic], () => true, messages.length);
  expect(read).toHaveLength(messages.length);
  return read.sort(
    (a, b) => a.partition - b.partition || Number(a.message.offset) - Number(b.message.offset),
  );
}

const invocation = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:user-consumer',
  functionName: 'user-consumer',
};
const eventSource = {
  eventSourceArn: 'arn:aws:kafka:local:000000000000:cluster/local/local',
  bootstrapServers: brokers,
};

/** Dead-letters `originals` into `dlq` exactly as the handlers do, in order. */
async function deadLetter(
  dlq: string,
  originals: readonly ReadMessage[],
  failure: (i: number) => PoisonRecord,
) {
  const letters: DeadLetter[] = [];
  const messages = originals.map((m, i) => {
    const [record] = decodeMskEvent(
      toMskEvent([toMskRecord(m.topic, m.partition, m.message)], eventSource.eventSourceArn, brokers),
    );
    if (!record) throw new Error('no record');
    const letter = deadLetterFor(record, eventSource, failure(i), invocation, new Date());
    letters.push(letter);
    return deadLetterMessage(record, letter);
  });
  await writer.send([{ topic: dlq, messages }]);
  return letters;
}

/** Every record of a topic, as stored. */
async function readAll(topic: string): Promise<ReadMessage[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const read = await readUntil(kafka, [topic], () => true, total);
  return read.sort(
    (a, b) => a.partition - b.partition || Number(a.message.offset) - Number(b.message.offset),
  );
}

/** Runs `npm run ops -- ...` in-process; returns status and output lines. */
async function ops_(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

const run = promisify(execFile);

/** Runs the real entry point (tsx ops/ops.ts) as `npm run ops` does. */
async function opsProcess(args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'ops/ops.ts', ...args], {
      env: { ...process.env, ...env, ...extraEnv },
      timeout: 60_000,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout: string; stderr: string };
    return { status: e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('ops tail', () => {
  it('prints Glue-framed values as JSON with key, partition, offset and headers', async () => {
    const { source } = await topicPair(2);
    const tag = unique('tail');
    const framed = [0, 1].map((i) => framedEvent(i, tag));
    const stored = await writeAndRead(source, [
      ...framed.map((f) => ({ ...f.message, partition: 0 })),
      { key: 'plain', value: Buffer.from('{"hello":"world"}'), partition: 1 },
      { key: null, value: Buffer.from([0xff, 0x00, 0x01]), partition: 1 },
    ]);

    const seen: RecordView[] = [];
    const shown = await tail(ops, {
      topic: source,
      fromBeginning: true,
      limit: 4,
      onRecord: (r) => seen.push(r),
    });
    expect(shown).toBe(4);
    seen.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
    expect(seen.map((r) => `${r.partition}/${r.offset}`)).toEqual(
      stored.map((m) => `${m.partition}/${m.message.offset}`),
    );
    for (const [i, f] of framed.entries()) {
      expect(seen[i]).toMatchObject({
        topic: source,
        key: f.message.key,
        value: {
          format: 'glue',
          schemaVersionId: ids('user_registered'),
          compression: 'none',
          json: f.event,
        },
      });
      expect(seen[i]?.headers).toEqual(
        Object.entries(f.message.headers ?? {}).map(([name, value]) => ({ name, value: String(value) })),
      );
    }
    expect(seen[2]).toMatchObject({ key: 'plain', value: { format: 'json', json: { hello: 'world' } } });
    expect(seen[3]).toMatchObject({
      key: null,
      value: { format: 'bytes', base64: Buffer.from([0xff, 0, 1]).toString('base64') },
    });

    // The same through the real entry point, as `npm run ops -- tail ... --json` runs it.
    const cli = await opsProcess(['tail', source, '--from-beginning', '--limit', '4', '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    const lines = cli.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RecordView);
    expect(lines).toHaveLength(4);
    expect(
      lines
        .filter((l) => l.value.format === 'glue')
        .map((l) => (l.value as { json: AnyEvent }).json.correlationId)
        .sort(),
    ).toEqual([`${tag}-0`, `${tag}-1`]);
    // And the human format names the event.
    const text = await opsProcess(['tail', source, '--from-beginning', '--limit', '4']);
    expect(text.stdout).toMatch(new RegExp(`${source} partition 0 offset 0 .* key=user-`));
    expect(text.stdout).toContain(`${source} partition 1 offset 1`);
    expect(text.stdout).toContain(`value:   bytes base64:${Buffer.from([0xff, 0, 1]).toString('base64')}`);
    expect(text.stdout).toContain('"eventType":"user_registered"');
  });

  it('fails with one line and a non-zero status on bad input or an unreachable broker', async () => {
    expect(await ops_('tail')).toMatchObject({
      status: 2,
      err: expect.stringMatching(/^ops: tail needs a topic/),
    });
    expect(await ops_('frobnicate')).toMatchObject({
      status: 2,
      err: expect.stringMatching(/unknown command/),
    });
    expect(await ops_('redrive', 'x.dlq', '--from-offset', '-3')).toMatchObject({ status: 2 });
    expect(await ops_('redrive', 'x.dlq', '--from-offset', '5', '--to-offset', '2')).toMatchObject({
      status: 2,
      err: 'ops: --from-offset 5 is after --to-offset 2',
    });
    expect(await ops_('tail', unique('missing'))).toMatchObject({
      status: 1,
      err: expect.stringMatching(/no topic named/),
    });
    expect(await ops_('lag', '--partition', '1')).toMatchObject({
      status: 2,
      err: 'ops: lag does not take --partition',
    });

    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const down = await opsProcess(['lag'], { KAFKA_BROKERS: `127.0.0.1:${port}` });
    expect(down.status).toBe(1);
    expect(down.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^ops: cannot reach Kafka at 127\.0\.0\.1:\d+/),
    ]);
    const iam = await opsProcess(['lag'], { KAFKA_AUTH: 'iam', AWS_REGION: '', AWS_DEFAULT_REGION: '' });
    expect(iam).toMatchObject({
      status: 2,
      stderr: 'ops: KAFKA_AUTH=iam needs AWS_REGION to sign MSK IAM tokens\n',
    });
  });
});

describe('ops dead-letters', () => {
  it('lists each dead letter with its source record, condition and error', async () => {
    const { source, dlq } = await topicPair(2, 2);
    const tag = unique('dl');
    const originals = await writeAndRead(source, [
      { ...framedEvent(0, tag).message, partition: 1 },
      { key: 'user-bad', value: Buffer.from('{"eventType":'), partition: 0 },
    ]);
    const reasons = [
      new PoisonRecord(
        'ContractViolation',
        'user_registered: /data/email must match format "email"',
        'RecordRejected',
        [{ path: '/data/email', message: 'must match format "email"' }],
      ),
      new PoisonRecord('DeserializationError', 'not a Glue Schema Registry record', 'DESERIALIZATION_ERROR'),
    ];
    const letters = await deadLetter(dlq, originals, (i) => reasons[i] as PoisonRecord);
    // A record that is not a dead letter at all is listed with the reason, not fatal.
    await writer.send([
      { topic: dlq, messages: [{ key: 'junk', value: Buffer.from('not json'), partition: 0 }] },
    ]);

    const { entries } = await listDeadLetters(ops, { topics: [dlq] });
    expect(entries).toHaveLength(3);
    for (const [i, m] of originals.entries()) {
      const entry = entries.find(
        (e) => e.source?.offset === Number(m.message.offset) && e.source.partition === m.partition,
      );
      expect(entry).toMatchObject({
        dlqTopic: dlq,
        source: { topic: source, partition: m.partition, offset: Number(m.message.offset) },
        condition: reasons[i]?.condition,
        errorType: reasons[i]?.errorType,
        errorMessage: reasons[i]?.message,
        handler: 'user-consumer',
        time: letters[i]?.timestamp,
      });
      expect(entry?.redriven).toBeUndefined();
    }
    expect(entries.find((e) => e.key === 'junk')?.problem).toBe('the value is not JSON');

    const cli = await ops_('dead-letters', dlq);
    expect(cli.status, cli.err).toBe(0);
    expect(cli.out).toContain(
      `RecordRejected ContractViolation: user_registered: /data/email must match format "email"`,
    );
    expect(cli.out).toContain(
      'DESERIALIZATION_ERROR DeserializationError: not a Glue Schema Registry record',
    );
    expect(cli.out).toContain(`from ${source} partition 0 offset 0`);
    expect(cli.out).toContain('UNREADABLE: the value is not JSON');
    expect(cli.out).toMatch(/3 dead letter\(s\), 0 re-driven$/);
    const json = JSON.parse((await ops_('dead-letters', dlq, '--json')).out) as { entries: unknown[] };
    expect(json.entries).toHaveLength(3);
  });
});

describe('ops redrive', () => {
  /** Source topic with `n` varied originals, all dead-lettered into a 1-partition DLQ. */
  async function deadLettered(n: number) {
    const { source, dlq } = await topicPair(3, 1);
    const tag = unique('rd');
    const messages = Array.from({ length: n }, (_, i) => {
      if (i % 3 === 1) {
        // No key, a value that is not UTF-8, a repeated header and a binary one: bytes must survive.
        return {
          key: null,
          value: Buffer.from([0x03, 0x00, 0xff, 0xfe, i]),
          headers: { 'x-trace': ['a', 'b'], 'x-bin': Buffer.from([0, 0xff, i]) },
          partition: i % 3,
        };
      }
      return { ...framedEvent(i, tag).message, partition: i % 3 };
    });
    const originals = await writeAndRead(source, messages);
    // Dead letters in the order the originals were written: DLQ offset i holds message i.
    const byIndex = messages.map(
      (m) =>
        originals.find(
          (o) => o.partition === m.partition && o.message.value?.equals(m.value ?? Buffer.alloc(0)),
        ) as ReadMessage,
    );
    await deadLetter(
      dlq,
      byIndex,
      () => new PoisonRecord('RetriesExhausted', 'downstream timed out', 'RetriesExhausted'),
    );
    return { source, dlq, originals: byIndex };
  }

  /** The re-driven copies on the source topic, by the DLQ offset they came from. */
  async function redrivenCopies(source: string, dlq: string) {
    const all = await readAll(source);
    const copies = new Map<string, ReadMessage>();
    for (const m of all) {
      const from = m.message.headers?.[REDRIVEN_FROM_HEADER];
      if (from === undefined) continue;
      const key = String(from).replace(`${dlq}/`, '');
      expect(copies.has(key), `${key} re-driven twice`).toBe(false);
      copies.set(key, m);
    }
    return { all, copies };
  }

  it('writes back exactly the originals with a redriven-from header, and a second run sends nothing', async () => {
    const { source, dlq, originals } = await deadLettered(4);
    const first = await redrive(ops, { dlqTopic: dlq });
    expect(first.redriven).toHaveLength(4);
    expect(first.alreadyRedriven).toHaveLength(0);

    const { all, copies } = await redrivenCopies(source, dlq);
    expect(all).toHaveLength(8);
    expect([...copies.keys()].sort()).toEqual(['0/0', '0/1', '0/2', '0/3']);
    for (const [i, original] of originals.entries()) {
      const copy = copies.get(`0/${i}`) as ReadMessage;
      expect(copy.partition).toBe(original.partition);
      expect(copy.message.key).toEqual(original.message.key);
      expect(copy.message.value).toEqual(original.message.value);
      expect(copy.message.headers).toEqual({
        ...original.message.headers,
        [REDRIVEN_FROM_HEADER]: Buffer.from(`${dlq}/0/${i}`),
      });
      expect(first.redriven[i]?.to).toEqual({
        topic: source,
        partition: original.partition,
        offset: copy.message.offset,
      });
    }
    expect(copies.get('0/1')?.message.headers?.['x-trace']).toEqual([Buffer.from('a'), Buffer.from('b')]);

    // Second run, through the command line: nothing is sent again.
    const second = await ops_('redrive', dlq, '--json');
    expect(second.status, second.err).toBe(0);
    const result = JSON.parse(second.out) as RedriveResult;
    expect(result.redriven).toHaveLength(0);
    expect(result.alreadyRedriven).toHaveLength(4);
    expect((await readAll(source)).length).toBe(8);
    // The listing shows them as re-driven; the marks are in the compacted marker topic.
    const { entries } = await listDeadLetters(ops, { topics: [dlq] });
    expect(entries.every((e) => e.redriven !== undefined)).toBe(true);
    expect(await readAll(markerTopicOf(dlq))).toHaveLength(4);
  });

  it('re-drives an offset range, a dry run writes nothing, and later runs send only the rest', async () => {
    const { source, dlq } = await deadLettered(5);

    const dry = await ops_('redrive', dlq, '--from-offset', '1', '--to-offset', '3', '--dry-run');
    expect(dry.status, dry.err).toBe(0);
    expect(dry.out).toMatch(/would re-drive 3, 0 already re-driven, 0 skipped/);
    expect((await readAll(source)).length).toBe(5);
    expect(await admin.fetchTopicOffsets(markerTopicOf(dlq))).toEqual([
      expect.objectContaining({ partition: 0, high: '0' }),
    ]);

    const range = await redrive(ops, { dlqTopic: dlq, fromOffset: 1n, toOffset: 3n });
    expect(range.redriven.map((r) => r.entry.offset)).toEqual(['1', '2', '3']);
    expect([...(await redrivenCopies(source, dlq)).copies.keys()].sort()).toEqual(['0/1', '0/2', '0/3']);

    const overlapping = await redrive(ops, { dlqTopic: dlq, fromOffset: 2n });
    expect(overlapping.redriven.map((r) => r.entry.offset)).toEqual(['4']);
    expect(overlapping.alreadyRedriven.map((e) => e.offset)).toEqual(['2', '3']);

    const rest = await redrive(ops, { dlqTopic: dlq });
    expect(rest.redriven.map((r) => r.entry.offset)).toEqual(['0']);
    expect((await redrive(ops, { dlqTopic: dlq })).redriven).toHaveLength(0);
    const { all, copies } = await redrivenCopies(source, dlq);
    expect(all).toHaveLength(10);
    expect([...copies.keys()].sort()).toEqual(['0/0', '0/1', '0/2', '0/3', '0/4']);
  });

  it('refuses to run without the re-drive log, naming it, and creates no topic', async () => {
    const { source, dlq } = await topicPair(3, 1, false);
    const stored = await writeAndRead(source, [{ ...framedEvent(0, unique('nolog')).message, partition: 0 }]);
    await deadLetter(
      dlq,
      stored,
      () => new PoisonRecord('RetriesExhausted', 'timed out', 'RetriesExhausted'),
    );
    for (const dryRun of [false, true]) {
      await expect(redrive(ops, { dlqTopic: dlq, dryRun })).rejects.toThrow(
        `no topic named "${markerTopicOf(dlq)}", where re-drive records what it sent`,
      );
    }
    expect(await admin.listTopics()).not.toContain(markerTopicOf(dlq));
    expect(await readAll(source)).toHaveLength(1);
  });

  it('frames JSON values again (the schema version they carried, else the current one), sends framed ones as they are, and reports JSON it cannot frame', async () => {
    const { source, dlq } = await topicPair(3, 1);
    const tag = unique('json');
    const { event, message } = framedEvent(0, tag);
    const [stored] = await writeAndRead(source, [{ ...message, partition: 1 }]);
    const asRead = toMskRecord(source, 1, (stored as ReadMessage).message);
    const payload = Buffer.from(JSON.stringify(event));
    /** The record as the mapping delivers it to the handler with EventRecordFormat JSON. */
    const delivered = (value: Buffer, schemaId?: string) => ({
      ...asRead,
      value: value.toString('base64'),
      ...(schemaId ? { valueSchemaMetadata: { dataFormat: 'JSON', schemaId } } : {}),
    });
    // An older schema version than the contract's current one, which the record carried.
    const older = '0f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f';
    const letters = [
      delivered(payload, older), // the handler's dead letter
      delivered(payload), // a dead letter written before the schema metadata was kept
      asRead, // the mapping's dead letter: the bytes as produced
      delivered(Buffer.from(JSON.stringify({ ...event, eventType: 'no_such_event' }))),
    ];
    const messages = letters.map((r) => {
      const [record] = decodeMskEvent(toMskEvent([r], eventSource.eventSourceArn, brokers));
      if (!record) throw new Error('no record');
      return deadLetterMessage(
        record,
        deadLetterFor(
          record,
          eventSource,
          new PoisonRecord('DerivationFailed', 'bug'),
          invocation,
          new Date(),
        ),
      );
    });
    await writer.send([{ topic: dlq, messages }]);

    const result = await redrive(ops, { dlqTopic: dlq });
    expect(result.redriven.map((r) => [r.entry.offset, r.framedWith])).toEqual([
      ['0', older],
      ['1', ids('user_registered')],
      ['2', undefined],
    ]);
    expect(result.skipped).toEqual([
      expect.objectContaining({
        offset: '3',
        problem:
          'cannot be re-driven as the mapping would accept it: the value is JSON of event type "no_such_event", which has no contract',
      }),
    ]);
    const { copies } = await redrivenCopies(source, dlq);
    expect([...copies.keys()].sort()).toEqual(['0/0', '0/1', '0/2']);
    for (const [key, id] of [
      ['0/0', older],
      ['0/1', ids('user_registered')],
    ] as const) {
      const framed = decode(copies.get(key)?.message.value as Buffer);
      expect(framed.schemaVersionId, key).toBe(id);
      expect(framed.payload.equals(payload), key).toBe(true);
      expect(copies.get(key)?.message.key).toEqual(stored?.message.key);
    }
    expect(copies.get('0/2')?.message.value).toEqual(stored?.message.value);
    // The one it could not frame is not marked: once its cause is fixed it can be re-driven.
    const again = await redrive(ops, { dlqTopic: dlq });
    expect(again.redriven).toHaveLength(0);
    expect(again.alreadyRedriven.map((e) => e.offset)).toEqual(['0', '1', '2']);
    expect(again.skipped.map((e) => e.offset)).toEqual(['3']);
    const cli = await ops_('redrive', dlq, '--dry-run');
    expect(cli.out).toContain(`skipped ${dlq}/0/3: cannot be re-driven as the mapping would accept it`);
  });

  it('skips records that are not dead letters and refuses unknown topics', async () => {
    const { source, dlq } = await deadLettered(1);
    await writer.send([{ topic: dlq, messages: [{ key: 'junk', value: Buffer.from('{"payload":{}}') }] }]);
    const result = await redrive(ops, { dlqTopic: dlq });
    expect(result.redriven).toHaveLength(1);
    expect(result.skipped).toEqual([
      expect.objectContaining({ offset: '1', problem: 'not a dead letter: no payload.records' }),
    ]);
    expect((await readAll(source)).length).toBe(2);
    expect(await ops_('redrive', `${unique('nope')}.dlq`)).toMatchObject({
      status: 1,
      err: expect.stringMatching(/no topic named/),
    });
  });
});

describe('ops lag', () => {
  it('reports records between committed offsets and the end of the topic', async () => {
    const { source } = await topicPair(2);
    const groupId = unique('group');
    await writeAndRead(source, [
      ...Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`a${i}`), partition: 0 })),
      ...Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`b${i}`), partition: 1 })),
    ]);
    const mapping = { name: 'test-mapping', groupId, topic: source };
    // No committed offsets: everything is behind.
    expect(await mappingLags(admin, [mapping])).toEqual([{ ...mapping, lag: 8, topicExists: true }]);
    await admin.setOffsets({ groupId, topic: source, partitions: [{ partition: 0, offset: '2' }] });
    expect((await mappingLags(admin, [mapping]))[0]?.lag).toBe(3 + 3);
    await admin.setOffsets({
      groupId,
      topic: source,
      partitions: [
        { partition: 0, offset: '5' },
        { partition: 1, offset: '1' },
      ],
    });
    expect((await mappingLags(admin, [mapping]))[0]?.lag).toBe(2);

    // The command covers every mapping of the topology, with the numbers lagOf gives.
    const cli = await ops_('lag', '--json');
    expect(cli.status, cli.err).toBe(0);
    const rows = JSON.parse(cli.out) as {
      name: string;
      groupId: string;
      lag: number;
      topicExists: boolean;
    }[];
    expect(rows.map((r) => r.name)).toEqual(topologyMappings().map((m) => m.name));
    for (const row of rows) {
      const ref = topologyMappings().find((m) => m.name === row.name);
      if (ref && row.topicExists) expect(row.lag).toBe(await lagOf(admin, ref.groupId, ref.topic));
    }
    expect((await ops_('lag')).out.split('\n')[0]).toMatch(/^MAPPING\s+GROUP\s+TOPIC\s+LAG$/);
  });
});

describe('ops --stage', () => {
  // AWS is stood in for (test/support/fake-msk.ts: the real Kafka SDK client, its HTTP answered with
  // GetBootstrapBrokers' wire form; moto has no GetBootstrapBrokers): the stack output names a
  // cluster whose plaintext listener is this test's broker, and nothing names the broker but that.
  it('connects to the brokers GetBootstrapBrokers gives for the cluster of the stage’s stack', async () => {
    const { source } = await topicPair(1);
    await writeAndRead(source, [{ key: 'found', value: Buffer.from('{"via":"discovery"}'), partition: 0 }]);
    const arn =
      'arn:aws:kafka:eu-west-1:123456789012:cluster/it-events/0a1b2c3d-4e5f-6789-abcd-ef0123456789-1';
    const aws = fakeAws(bootstrapAnswer({ bootstrapBrokerString: brokers }), {
      'it-kafka': [{ OutputKey: 'ClusterArn', OutputValue: arn }],
    });
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(
      ['--stage', 'it', 'tail', source, '--from-beginning', '--limit', '1', '--json'],
      {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        env: { AWS_REGION: 'eu-west-1', KAFKA_AUTH: 'plaintext' },
        aws,
      },
    );
    expect(status, err.join('\n')).toBe(0);
    expect(aws.stacksAsked).toEqual([{ stackName: 'it-kafka', region: 'eu-west-1' }]);
    expect(aws.requests.map((r) => r.path)).toEqual([
      `/v1/clusters/${encodeURIComponent(arn)}/bootstrap-brokers`,
    ]);
    expect(out.map((line) => JSON.parse(line))).toMatchObject([
      {
        topic: source,
        partition: 0,
        offset: '0',
        key: 'found',
        value: { format: 'json', json: { via: 'discovery' } },
      },
    ]);
  });
});
