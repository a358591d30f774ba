import { fullFormats } from 'ajv-formats/dist/formats.js';
import { describe, expect, it } from 'vitest';
import { formats, isDateTime } from '../../schemas/formats';
import { validators } from '../../schemas/generated/validators';

/** ajv-formats' full `date-time` (time zone required), which schemas/formats.ts must match exactly. */
const reference = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;

/** Compares both on `samples`; returns how many each accepted, so a test can see both sides are hit. */
function compare(samples: Iterable<string>): { accepted: number; rejected: number } {
  let accepted = 0;
  let rejected = 0;
  for (const s of samples) {
    const expected = reference(s);
    expect(isDateTime(s), JSON.stringify(s)).toBe(expected);
    if (expected) accepted++;
    else rejected++;
  }
  return { accepted, rejected };
}

function* grid(): Generator<string> {
  const years = ['0000', '1900', '2000', '2004', '2023', '2024', '2100', '9999', '202', '20245', '2O24'];
  const months = ['00', '01', '02', '04', '09', '12', '13', '99', '1'];
  const days = ['00', '01', '28', '29', '30', '31', '32', '1'];
  for (const y of years) for (const m of months) for (const d of days) yield `${y}-${m}-${d}T10:00:00.000Z`;
  const hours = ['00', '22', '23', '24', '99', '0'];
  const minutes = ['00', '58', '59', '60'];
  const seconds = [
    '00',
    '59',
    '60',
    '61',
    '58.99999999999999999',
    '59.9',
    '59.999999999999999',
    '59.9999999999999999',
    '60.5',
    '60.9999999999999999',
    '00.',
    '00.0',
    '5',
  ];
  const zones = [
    'Z',
    'z',
    '+00:00',
    '-00:00',
    '+01:00',
    '-01:00',
    '+23:59',
    '+24:00',
    '+01:60',
    '+0100',
    '+01',
    '+1:00',
    '',
    'UTC',
    ' Z',
    'Z ',
    '+01:00Z',
  ];
  for (const h of hours)
    for (const m of minutes)
      for (const s of seconds) for (const z of zones) yield `2024-12-31T${h}:${m}:${s}${z}`;
  const separators = ['T', 't', ' ', '\t', '\n', '\u00a0', '\u2028', '\ufeff', 'x', '', 'TT', '_'];
  for (const sep of separators) yield `2024-02-29${sep}12:34:56Z`;
}

describe('date-time format (schemas/formats.ts)', () => {
  it('judges dates, times, zones, leap years, leap seconds and separators as ajv-formats does', () => {
    const { accepted, rejected } = compare(grid());
    expect(accepted).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(1000);
  });

  it('judges leap seconds with offsets as ajv-formats does', () => {
    const samples: string[] = [];
    for (const time of [
      '23:59:60',
      '22:59:60',
      '00:59:60',
      '00:00:60',
      '23:58:60',
      '23:59:60.999',
      '00:29:60',
      '12:29:60',
    ])
      for (const zone of [
        'Z',
        '+00:00',
        '-01:00',
        '+01:00',
        '+00:01',
        '-00:01',
        '+12:30',
        '-11:30',
        '+0100',
        '-0030',
      ])
        samples.push(`1998-12-31T${time}${zone}`);
    const { accepted, rejected } = compare(samples);
    expect(accepted).toBeGreaterThan(5);
    expect(rejected).toBeGreaterThan(5);
  });

  it('judges random mutations of valid date-times as ajv-formats does', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (Math.imul(seed, 48271) >>> 0) % 0x7fffffff;
      return seed % n;
    };
    const alphabet = [
      '0',
      '1',
      '2',
      '5',
      '9',
      '-',
      ':',
      '.',
      'T',
      't',
      'Z',
      'z',
      '+',
      ' ',
      '\u0663',
      '\uff34',
      'a',
      '\u2028',
    ];
    const bases = [
      '2026-11-23T10:00:00.000Z',
      '2024-02-29T23:59:60+00:00',
      '1999-12-31t00:00:00-05:30',
      '2000-01-01 12:00:00z',
    ];
    const samples: string[] = [];
    for (let k = 0; k < 60_000; k++) {
      let s = bases[random(bases.length)] as string;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(s.length + 1);
        const c = alphabet[random(alphabet.length)] as string;
        const op = random(3);
        s =
          op === 0
            ? s.slice(0, at) + c + s.slice(at + 1)
            : op === 1
              ? s.slice(0, at) + c + s.slice(at)
              : s.slice(0, at) + s.slice(at + 1);
      }
      samples.push(s);
    }
    const { accepted, rejected } = compare(samples);
    expect(accepted).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(1000);
  });

  it('is the date-time check of the generated validators', () => {
    expect(formats['date-time'].validate).toBe(isDateTime);
    const event = {
      eventId: '00000000-0000-4000-8000-000000000000',
      eventType: 'user_deleted',
      occurredAt: '2026-02-29T10:00:00.000Z',
      source: 'test',
      correlationId: 'c-1',
      schemaVersion: 1,
      data: { userId: 'u-1', reason: 'user_request' },
    };
    // 2026 is not a leap year: the validator must reject what the format rejects.
    expect(validators.user_deleted(event)).toBe(false);
    expect(validators.user_deleted.errors?.[0]).toMatchObject({
      instancePath: '/occurredAt',
      keyword: 'format',
    });
    expect(validators.user_deleted({ ...event, occurredAt: '2028-02-29T10:00:00.000Z' })).toBe(true);
  });
});
