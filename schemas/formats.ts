/**
 * The string formats the generated validators (schemas/generated/validators.js) call at run time, by
 * Ajv's format name. Ajv writes the formats defined by a regular expression (email, ipv4, ipv6) into
 * the generated code itself; `date-time` is a function, and importing it from ajv-formats would bundle
 * all of ajv-formats' formats (8 KB minified, 2 KB gzipped, in every function).
 *
 * `date-time` accepts and rejects exactly what ajv-formats 3.0.1's full `date-time` does
 * (`getDateTime(true)`: RFC 3339 section 5.6, time zone required). It runs on every event twice per
 * record (the source event and each derived one), and ajv-formats' way (split by a regular
 * expression, then two more with captures) was 7 % of the consumer logic's CPU in the `cpu`
 * benchmark; so the shape every producer writes (`Date.prototype.toISOString`,
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, and `±HH:MM` offsets) is read by a scanner, about five times faster,
 * and any other string goes through ajv-formats' algorithm, copied below (dist/formats.js, MIT
 * licence). test/unit/formats.test.ts and test/unit/validators-generated.test.ts check it against
 * ajv-formats'.
 */

/** Days in each month of a common year (index 1..12). */
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeapYear = (year: number): boolean => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** A valid day of the month (RFC 3339 section 5.7, leap years per its appendix C). */
const validDay = (year: number, month: number, day: number): boolean =>
  month >= 1 &&
  month <= 12 &&
  day >= 1 &&
  day <= (month === 2 && isLeapYear(year) ? 29 : (DAYS[month] as number));

/**
 * The time rules of ajv-formats' `time` (strict time zone), given the parsed fields: an offset's
 * hours ≤ 23 and minutes ≤ 59; then either an ordinary time, or a leap second (second 60) at
 * 23:59 UTC once the offset is applied.
 */
function validTime(hr: number, min: number, sec: number, tzSign: number, tzH: number, tzM: number): boolean {
  if (tzH > 23 || tzM > 59) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

// ajv-formats 3.0.1, dist/formats.js (MIT, https://github.com/ajv-validator/ajv-formats): `date`,
// `getTime(true)` and `getDateTime(true)`, the general case.
const DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
const TIME = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)?$/i;
const DATE_TIME_SEPARATOR = /t|\s/i;

function generalDateTime(str: string): boolean {
  const dateTime = str.split(DATE_TIME_SEPARATOR);
  if (dateTime.length !== 2) return false;
  const date = DATE.exec(dateTime[0] as string);
  if (!date || !validDay(+(date[1] as string), +(date[2] as string), +(date[3] as string))) return false;
  const time = TIME.exec(dateTime[1] as string);
  if (!time?.[4]) return false;
  return validTime(
    +(time[1] as string),
    +(time[2] as string),
    +(time[3] as string),
    time[5] === '-' ? -1 : 1,
    +(time[6] || 0),
    +(time[7] || 0),
  );
}

/** The value of the ASCII digit at `i`, or -1 when it is not one. */
const digitAt = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
};

/** Two ASCII digits at `i` as a number, or -1. */
const twoDigits = (s: string, i: number): number => {
  const a = digitAt(s, i);
  const b = digitAt(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
};

/**
 * RFC 3339 `date-time` as ajv-formats' full `date-time` format checks it. The fast path reads
 * `YYYY-MM-DD(T|t)HH:MM:SS[.fraction](Z|z|±HH:MM)`; anything else (a space or another separator, an
 * offset without a colon or minutes...) goes through the general algorithm.
 */
export function isDateTime(str: string): boolean {
  const n = str.length;
  if (n < 20) return generalDateTime(str);
  const year = twoDigits(str, 0) * 100 + twoDigits(str, 2);
  const month = twoDigits(str, 5);
  const day = twoDigits(str, 8);
  const hr = twoDigits(str, 11);
  const min = twoDigits(str, 14);
  const ss = twoDigits(str, 17);
  const t = str.charCodeAt(10);
  if (
    twoDigits(str, 0) < 0 ||
    twoDigits(str, 2) < 0 ||
    month < 0 ||
    day < 0 ||
    hr < 0 ||
    min < 0 ||
    ss < 0 ||
    str.charCodeAt(4) !== 0x2d ||
    str.charCodeAt(7) !== 0x2d ||
    (t !== 0x54 && t !== 0x74) ||
    str.charCodeAt(13) !== 0x3a ||
    str.charCodeAt(16) !== 0x3a
  )
    return generalDateTime(str);
  let i = 19;
  let sec = ss;
  if (str.charCodeAt(i) === 0x2e) {
    i++;
    while (i < n && digitAt(str, i) >= 0) i++;
    if (i === 20) return generalDateTime(str);
    // ajv-formats reads the seconds with their fraction as one number, compared with 60 and 61: below
    // 59 the fraction cannot change either comparison; from 59 it can (59.9999999999999999 is 60).
    if (ss >= 59) sec = +str.slice(17, i);
  }
  let tzSign = 1;
  let tzH = 0;
  let tzM = 0;
  const z = str.charCodeAt(i);
  if ((z === 0x5a || z === 0x7a) && i + 1 === n) {
    // Z: UTC.
  } else if ((z === 0x2b || z === 0x2d) && i + 6 === n && str.charCodeAt(i + 3) === 0x3a) {
    tzSign = z === 0x2d ? -1 : 1;
    tzH = twoDigits(str, i + 1);
    tzM = twoDigits(str, i + 4);
    if (tzH < 0 || tzM < 0) return generalDateTime(str);
  } else return generalDateTime(str);
  return validDay(year, month, day) && validTime(hr, min, sec, tzSign, tzH, tzM);
}

/** The formats by name, shaped as ajv-formats' `fullFormats` entries the generated code reads. */
export const formats = { 'date-time': { validate: isDateTime } } as const;
