/**
 * The string formats the generated validators (schemas/generated/validators.js) call at run time, by
 * Ajv's format name. Ajv writes the formats defined by a regular expression (email, ipv4, ipv6) into
 * the generated code itself; `date-time` is a function, and importing it from ajv-formats would bundle
 * all of ajv-formats' formats (8 KB minified, 2 KB gzipped, in every function). Here is the same
 * function, from ajv-formats 3.0.1 (dist/formats.js, MIT licence: `getDateTime(true)`, RFC 3339
 * section 5.6 with the time zone required); test/unit/validators-generated.test.ts checks it agrees
 * with ajv-formats'.
 */

const DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const TIME = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)?$/i;
const DATE_TIME_SEPARATOR = /t|\s/i;

// https://tools.ietf.org/html/rfc3339#appendix-C
const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

function date(str: string): boolean {
  const matches = DATE.exec(str);
  if (!matches) return false;
  const year = +(matches[1] as string);
  const month = +(matches[2] as string);
  const day = +(matches[3] as string);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= (month === 2 && isLeapYear(year) ? 29 : (DAYS[month] as number))
  );
}

function time(str: string): boolean {
  const matches = TIME.exec(str);
  if (!matches) return false;
  const hr = +(matches[1] as string);
  const min = +(matches[2] as string);
  const sec = +(matches[3] as string);
  const tz = matches[4];
  const tzSign = matches[5] === '-' ? -1 : 1;
  const tzH = +(matches[6] || 0);
  const tzM = +(matches[7] || 0);
  if (tzH > 23 || tzM > 59 || !tz) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second: 23:59:60 UTC.
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

/** RFC 3339 `date-time`, time zone required (ajv-formats' full `date-time`). */
export function isDateTime(str: string): boolean {
  const parts = str.split(DATE_TIME_SEPARATOR);
  return parts.length === 2 && date(parts[0] as string) && time(parts[1] as string);
}

/** The formats by name, shaped as ajv-formats' `fullFormats` entries the generated code reads. */
export const formats = { 'date-time': { validate: isDateTime } } as const;
