import { describe, expect, it } from 'vitest';
import { decodeMskEvent, type MskEvent, type MskRecord } from '../../core/msk-event';

const record = (partition: number, offset: number, extra: Partial<MskRecord> = {}): MskRecord => ({
  topic: 'user-events',
  partition,
  offset,
  timestamp: 1_700_000_000_000,
  timestampType: 'CREATE_TIME',
  key: Buffer.from(`k-${offset}`).toString('base64'),
  value: Buffer.from(`{"n":${offset}}`).toString('base64'),
  headers: [{ trace: [97, -1] }, { trace: [98] }, { other: [] }],
  ...extra,
});

const eventOf = (records: Record<string, MskRecord[]>): MskEvent => ({
  eventSource: 'aws:kafka',
  bootstrapServers: 'b-1:9092',
  records,
});

describe('decodeMskEvent', () => {
  it('decodes key, value and headers (signed bytes, repeated names in order)', () => {
    const [r] = decodeMskEvent(eventOf({ 'user-events-0': [record(0, 7)] }));
    expect(r?.topicPartition).toBe('user-events-0');
    expect(r?.key?.toString()).toBe('k-7');
    expect(r?.value?.toString()).toBe('{"n":7}');
    expect(r?.headers.get('trace')).toEqual([Buffer.from([97, 255]), Buffer.from([98])]);
    expect(r?.headers.get('other')).toEqual([Buffer.alloc(0)]);
    // Read twice, the same decoded objects.
    expect(r?.key).toBe(r?.key);
    expect(r?.headers).toBe(r?.headers);
  });

  it('gives null for an absent or null key and value, and no headers for an absent list', () => {
    const [a, b] = decodeMskEvent(
      eventOf({
        'user-events-1': [
          record(1, 1, { key: null, value: null, headers: undefined }),
          { ...record(1, 2), key: undefined, value: undefined },
        ],
      }),
    );
    expect([a?.key, a?.value, b?.key, b?.value]).toEqual([null, null, null, null]);
    expect(a?.headers.size).toBe(0);
  });

  it('keeps the partitions in event order, orders each by offset, keeps the order of equal offsets, and leaves the event alone', () => {
    const shuffled = [
      record(2, 5),
      record(2, 3, { value: 'AQ==' }),
      record(2, 9),
      record(2, 3, { value: 'Ag==' }),
    ];
    const event = eventOf({ 'user-events-2': shuffled, 'user-events-0': [record(0, 1), record(0, 2)] });
    const decoded = decodeMskEvent(event);
    expect(decoded.map((r) => `${r.raw.partition}/${r.raw.offset}`)).toEqual([
      '2/3',
      '2/3',
      '2/5',
      '2/9',
      '0/1',
      '0/2',
    ]);
    expect(decoded.filter((r) => r.raw.offset === 3).map((r) => r.value?.[0])).toEqual([1, 2]);
    expect(event.records['user-events-2']?.map((r) => r.offset)).toEqual([5, 3, 9, 3]);
  });
});
