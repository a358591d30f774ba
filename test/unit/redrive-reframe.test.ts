/**
 * What re-drive writes for a dead letter's value and key (ops/reframe.ts): Glue-framed values
 * as they are, JSON values framed again with the schema version the record carried or else the
 * contract's current one, and a clear error for JSON that cannot be framed. And the dead letter keeps
 * the schema metadata that choice needs (core/dead-letter.ts, schemas/dead-letter.ts).
 */
import { describe, expect, it } from 'vitest';
import { deadLetterFor, PoisonRecord } from '../../core/dead-letter';
import { decode, encode } from '../../core/glue-wire-format';
import { decodeMskEvent, type MskRecord } from '../../core/msk-event';
import { UsageError } from '../../ops/clients';
import { originalOf } from '../../ops/dead-letters';
import {
  type CurrentSchemaIds,
  contractSchemaIds,
  ReframeError,
  redriveKey,
  redriveValue,
  schemaIdsFromEnvironment,
} from '../../ops/reframe';
import { eventExamples } from '../../schemas/examples';
import type { EventType } from '../../schemas/index';
import { localSchemaVersionId } from '../../schemas/registry';
import { checkContract } from '../../schemas/validator';

const example = eventExamples.user_registered[0] as { eventType: EventType };
const json = Buffer.from(JSON.stringify(example));
/** A schema version id other than the contract's current one: an older version the record carried. */
const OLDER = '0f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f';

/** Current ids that record which contracts were asked for. */
function recordingIds(ids: Partial<Record<EventType, string>> = {}): CurrentSchemaIds & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    source: 'the test registry',
    idOf: async (contract) => {
      asked.push(contract);
      return ids[contract];
    },
  };
}

describe('redriveValue', () => {
  it('frames a JSON value again with the schema version the record carried, not the current one', async () => {
    const ids = recordingIds({ user_registered: localSchemaVersionId('user_registered') });
    const out = await redriveValue(json, { dataFormat: 'JSON', schemaId: OLDER }, ids);
    expect(out.framedWith).toBe(OLDER);
    const framed = decode(out.bytes as Buffer);
    expect(framed.schemaVersionId).toBe(OLDER);
    expect(framed.compression).toBe('none');
    expect(framed.payload.equals(json)).toBe(true);
    expect(ids.asked).toEqual([]);
  });

  it('frames a JSON value that carried no schema metadata with its contract’s current version', async () => {
    const current = localSchemaVersionId('user_registered');
    const out = await redriveValue(json, undefined, contractSchemaIds());
    expect(out.framedWith).toBe(current);
    const framed = decode(out.bytes as Buffer);
    expect(framed.schemaVersionId).toBe(current);
    expect(framed.payload.equals(json)).toBe(true);

    const ids = recordingIds({ user_registered: OLDER });
    expect(decode((await redriveValue(json, undefined, ids)).bytes as Buffer).schemaVersionId).toBe(OLDER);
    expect(ids.asked).toEqual(['user_registered']);
  });

  it('writes an already Glue-framed value back byte for byte, whatever the metadata says', async () => {
    const ids = recordingIds();
    for (const framed of [
      encode(localSchemaVersionId('user_registered'), json),
      encode(OLDER, json, { compression: 'zlib' }),
    ]) {
      for (const metadata of [undefined, { dataFormat: 'JSON', schemaId: OLDER }]) {
        const out = await redriveValue(framed, metadata, ids);
        expect(out.bytes).toBe(framed);
        expect(out.framedWith).toBeUndefined();
      }
    }
    expect(ids.asked).toEqual([]);
  });

  it('writes back a missing value and bytes that are neither framed nor JSON as they are', async () => {
    const ids = recordingIds();
    expect(await redriveValue(null, undefined, ids)).toEqual({ bytes: null });
    const bytes = Buffer.from([0x03, 0x00, 0xff, 0xfe]);
    expect((await redriveValue(bytes, undefined, ids)).bytes).toBe(bytes);
    expect(ids.asked).toEqual([]);
  });

  it('refuses JSON it cannot frame, saying why', async () => {
    const ids = recordingIds();
    const value = (v: unknown) => Buffer.from(JSON.stringify(v));
    await expect(
      redriveValue(value({ ...example, eventType: 'no_such_event' }), undefined, ids),
    ).rejects.toThrow(
      new ReframeError('the value is JSON of event type "no_such_event", which has no contract'),
    );
    await expect(redriveValue(value({ hello: 'world' }), undefined, ids)).rejects.toThrow(
      /names no "eventType"/,
    );
    await expect(redriveValue(json, undefined, ids)).rejects.toThrow(
      new ReframeError(
        'the value is JSON of event type "user_registered", and the test registry has no schema version of its contract',
      ),
    );
    await expect(redriveValue(json, { dataFormat: 'AVRO', schemaId: OLDER }, ids)).rejects.toThrow(
      /deserialized from AVRO .* only JSON can be framed again/,
    );
    await expect(redriveValue(json, { dataFormat: 'JSON', schemaId: 'v1' }, ids)).rejects.toThrow(
      /schemaId "v1" is not a Glue schema version id/,
    );
    await expect(
      redriveValue(Buffer.from([0xff, 0xfe]), { dataFormat: 'JSON', schemaId: OLDER }, ids),
    ).rejects.toThrow(/carries schema .* but is not JSON/);
  });
});

describe('redriveKey', () => {
  it('frames a key only when the mapping deserialized it', () => {
    const key = Buffer.from('"user-1"');
    expect(redriveKey(key, undefined).bytes).toBe(key);
    const out = redriveKey(key, { dataFormat: 'JSON', schemaId: OLDER });
    expect(decode(out.bytes as Buffer)).toMatchObject({ schemaVersionId: OLDER, payload: key });
  });
});

describe('schemaIdsFromEnvironment', () => {
  it('uses the contract files locally, and on MSK asks for the Glue registry only when an id is needed', async () => {
    expect(schemaIdsFromEnvironment({}).source).toBe('contracts');
    expect(await schemaIdsFromEnvironment({}).idOf('order_created')).toBe(
      localSchemaVersionId('order_created'),
    );
    const iam = schemaIdsFromEnvironment({ KAFKA_AUTH: 'iam' });
    await expect(iam.idOf('order_created')).rejects.toThrow(UsageError);
    await expect(iam.idOf('order_created')).rejects.toThrow(/GLUE_REGISTRY_NAME/);
    expect(schemaIdsFromEnvironment({ KAFKA_AUTH: 'iam', GLUE_REGISTRY_NAME: 'prod-events' }).source).toBe(
      'Glue registry prod-events',
    );
  });
});

describe('the dead letter keeps the schema metadata', () => {
  const raw: MskRecord = {
    topic: 'user-events',
    partition: 2,
    offset: 41,
    timestamp: Date.parse('2026-11-23T12:00:00.000Z'),
    timestampType: 'CREATE_TIME',
    key: Buffer.from('user-u-1').toString('base64'),
    value: json.toString('base64'),
    headers: [],
    valueSchemaMetadata: { dataFormat: 'JSON', schemaId: OLDER },
  };
  const letterOf = (r: MskRecord) => {
    const [record] = decodeMskEvent({
      eventSource: 'aws:kafka',
      bootstrapServers: 'b:9092',
      records: { x: [r] },
    });
    return deadLetterFor(
      record as NonNullable<typeof record>,
      { eventSourceArn: 'arn:aws:kafka:eu-west-1:000000000000:cluster/c/1', bootstrapServers: 'b:9092' },
      new PoisonRecord('DerivationFailed', 'bad deriver'),
      {
        awsRequestId: 'r',
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:f',
        functionName: 'f',
      },
      new Date('2026-11-23T12:00:01.000Z'),
    );
  };

  it('in payload.records, valid against the dead-letter contract, and re-drive reads it back', () => {
    const letter = letterOf(raw);
    expect(checkContract('dead_letter', letter)).toEqual([]);
    const original = originalOf(letter);
    expect(original.valueSchemaMetadata).toEqual({ dataFormat: 'JSON', schemaId: OLDER });
    expect(original.keySchemaMetadata).toBeUndefined();

    const withKey = originalOf(
      letterOf({ ...raw, keySchemaMetadata: { dataFormat: 'JSON', schemaId: OLDER } }),
    );
    expect(withKey.keySchemaMetadata).toEqual({ dataFormat: 'JSON', schemaId: OLDER });

    const without = letterOf({ ...raw, valueSchemaMetadata: undefined });
    expect(Object.values(without.payload.records)[0]?.[0]).not.toHaveProperty('valueSchemaMetadata');
    expect(checkContract('dead_letter', without)).toEqual([]);
  });

  it('re-drive refuses malformed schema metadata, which the contract keeps as AWS sent it', () => {
    const letter = letterOf(raw);
    const record = Object.values(letter.payload.records)[0]?.[0] as unknown as Record<string, unknown>;
    record.valueSchemaMetadata = { dataFormat: 'JSON' };
    // Powertools' published protobuf sample carries metadata without schemaId (test/fixtures/aws).
    expect(checkContract('dead_letter', letter)).toEqual([]);
    expect(() => originalOf(letter)).toThrow(
      'payload record valueSchemaMetadata is not {dataFormat, schemaId}',
    );
  });
});
