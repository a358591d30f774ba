/**
 * Lambda event filtering on a Kafka record's `value`
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html and
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-filtering.html): a record is delivered when
 * it matches at least one pattern; with no pattern every record is. Supported rule forms: a list of
 * values (equals any), `{prefix}`, `{suffix}`, `{equals-ignore-case}`, `{exists}`, `{anything-but}`,
 * `{numeric: [op, value, ...]}`, nested objects, and arrays in the record (any element matches).
 * A value that is not JSON matches no pattern that looks inside `value`.
 */

type Rule = unknown;

function matchesRule(rule: Rule, present: boolean, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) return present && value === rule;
  const r = rule as Record<string, unknown>;
  if ('exists' in r) return r.exists === present;
  if (!present) return false;
  if (Array.isArray(value)) return value.some((v) => matchesRule(rule, true, v));
  if ('prefix' in r) return typeof value === 'string' && value.startsWith(String(r.prefix));
  if ('suffix' in r) return typeof value === 'string' && value.endsWith(String(r.suffix));
  if ('equals-ignore-case' in r)
    return typeof value === 'string' && value.toLowerCase() === String(r['equals-ignore-case']).toLowerCase();
  if ('anything-but' in r) {
    const excluded = Array.isArray(r['anything-but']) ? r['anything-but'] : [r['anything-but']];
    return !excluded.includes(value);
  }
  if ('numeric' in r) {
    if (typeof value !== 'number') return false;
    const ops = r.numeric as (string | number)[];
    for (let i = 0; i + 1 < ops.length; i += 2) {
      const [op, bound] = [ops[i], Number(ops[i + 1])];
      const ok =
        op === '='
          ? value === bound
          : op === '<'
            ? value < bound
            : op === '<='
              ? value <= bound
              : op === '>'
                ? value > bound
                : op === '>='
                  ? value >= bound
                  : false;
      if (!ok) return false;
    }
    return true;
  }
  return false;
}

function matchesPattern(pattern: Record<string, unknown>, subject: unknown): boolean {
  for (const [field, rules] of Object.entries(pattern)) {
    const present = typeof subject === 'object' && subject !== null && Object.hasOwn(subject, field);
    const value = present ? (subject as Record<string, unknown>)[field] : undefined;
    if (Array.isArray(rules)) {
      if (!rules.some((rule) => matchesRule(rule, present, value))) return false;
    } else if (typeof rules === 'object' && rules !== null) {
      if (!present || !matchesPattern(rules as Record<string, unknown>, value)) return false;
    } else {
      return false;
    }
  }
  return true;
}

/** Whether a record whose value is `value` (parsed JSON, or undefined when not JSON) passes `filters`. */
export function passesFilters(
  filters: readonly { pattern: Record<string, unknown> }[],
  value: unknown,
): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => matchesPattern(f.pattern, { value }));
}
