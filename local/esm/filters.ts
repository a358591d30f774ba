/**
 * Lambda event filtering of Kafka records, as the MSK event-source mapping applies it.
 *
 * Sources (AWS is the authority; each rule below names the page it follows):
 * - Filter rule syntax and limits: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 *   ("Lambda supports the Amazon EventBridge rules and uses the same syntax"; its table lists Null,
 *   Empty, Equals, Equals (ignore case), And, Or, Or (multiple fields) `$or`, Not `anything-but`,
 *   Numeric (equals / range), Exists, Does not exist, Begins with `prefix`, Ends with `suffix`).
 * - The EventBridge forms that table leaves out (`prefix`/`suffix` with `equals-ignore-case`,
 *   `anything-but` with `prefix`/`suffix`/`equals-ignore-case`/`wildcard`, `wildcard`):
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html, with
 *   the matching details of AWS's own engine, https://github.com/aws/event-ruler (README: arrays,
 *   exists on leaf nodes only, wildcard escapes, `$or` needing two or more objects).
 * - Kafka specifics: https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-filtering.html (the
 *   same page as kafka-filtering.html): only the `value` key can be filtered on; Lambda decodes the
 *   value as UTF-8 and it is either JSON (pattern `{"value": {field: [rules]}}`) or a plain string
 *   (pattern `{"value": [rules]}`, e.g. `{"value": [{"anything-but": ["error"]}]}`). When the
 *   value's format does not match the pattern's, or the value is not UTF-8, the page's table says
 *   "Lambda filters (on the other metadata properties only)": the `value` part of that pattern is not
 *   applied. Kafka patterns have no other property, so such a pattern lets the record through.
 *
 * A record is delivered when it matches at least one filter; with no filter every record is
 * (invocation-eventfiltering.html: "Your filters are logically ORed together").
 *
 * Known difference: AWS compares numbers in value lists by their JSON text ("300, 300.0, and 3.0e2
 * are not considered equal", invocation-eventfiltering.html); the parsed value used here has lost
 * that text, so `[300]` matches 300.0. `numeric` rules compare values, as on AWS.
 *
 * Patterns are compiled once per filter list (cached) and checked when compiled: `checkFilters`
 * throws a FilterPatternError naming the filter, the field path and the operator.
 */

/** One entry of FilterCriteria.Filters, with its Pattern parsed. */
export interface FilterSpec {
  readonly pattern: Record<string, unknown>;
}

/**
 * A Kafka record's value, as the filters see it: parsed JSON (`json`), a plain UTF-8 string
 * (`text`), or `undefined` when there is no value or it is not UTF-8. `kafkaValue` gives it from the
 * record's bytes.
 */
export type FilterSubject = { readonly json: unknown } | { readonly text: string } | undefined;

/** Default number of filters per event-source mapping (a quota that can be raised to 10;
 * invocation-eventfiltering.html). */
export const MAX_FILTERS = 5;
/** Maximum length of a filter's Pattern string (https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html). */
export const MAX_PATTERN_LENGTH = 4096;

/** A filter pattern Lambda would refuse: which filter, where in it, and why. */
export class FilterPatternError extends Error {
  override readonly name = 'FilterPatternError';
}

type Leaf = string | number | boolean | null;
/** Whether one leaf value satisfies one rule. */
type Rule = (value: Leaf) => boolean;
/** Whether the JSON node at one level of the pattern satisfies it. */
type NodeMatcher = (node: unknown) => boolean;

interface CompiledFilter {
  /** `value: {…}`: matches parsed JSON. */
  readonly json?: NodeMatcher;
  /** `value: [rules]`: matches a plain string. */
  readonly text?: (text: string) => boolean;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * How Lambda reads a Kafka value before filtering (with-kafka-filtering.html: "Lambda decodes Kafka
 * byte arrays into UTF-8 before applying filter criteria"): not UTF-8 (or no value) gives
 * `undefined`; a JSON object or array gives `{json}`; anything else, including a bare JSON scalar
 * such as `42` (the page does not say; read here as the plain string it looks like), gives `{text}`.
 */
export function kafkaValue(bytes: Uint8Array | null | undefined): FilterSubject {
  if (!bytes) return undefined;
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return { json: JSON.parse(text) };
    } catch {
      // Not JSON after all: a plain string.
    }
  }
  return { text };
}

const compiledCache = new WeakMap<readonly FilterSpec[], readonly CompiledFilter[]>();

function compiled(filters: readonly FilterSpec[]): readonly CompiledFilter[] {
  let result = compiledCache.get(filters);
  if (!result) {
    result = compileFilters(filters);
    compiledCache.set(filters, result);
  }
  return result;
}

/** Throws a FilterPatternError if Lambda would refuse these filters. */
export function checkFilters(filters: readonly FilterSpec[]): void {
  compiled(filters);
}

/** Whether a record whose value is `subject` is delivered under `filters`. */
export function passesFilters(filters: readonly FilterSpec[], subject: FilterSubject): boolean {
  if (filters.length === 0) return true;
  for (const filter of compiled(filters)) {
    if (matchesFilter(filter, subject)) return true;
  }
  return false;
}

function matchesFilter(filter: CompiledFilter, subject: FilterSubject): boolean {
  // with-kafka-filtering.html table: only a JSON value with a JSON pattern, or a plain string with a
  // plain-string pattern, is filtered on `value`; otherwise "Lambda filters (on the other metadata
  // properties only)", and a Kafka pattern has none.
  if (subject !== undefined && 'json' in subject && filter.json) return filter.json(subject.json);
  if (subject !== undefined && 'text' in subject && filter.text) return filter.text(subject.text);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Compilation and validation

function compileFilters(filters: readonly FilterSpec[]): readonly CompiledFilter[] {
  if (!Array.isArray(filters)) throw new FilterPatternError('filters must be a list of {pattern}');
  if (filters.length > MAX_FILTERS) {
    throw new FilterPatternError(
      `${filters.length} filters: an event-source mapping has at most ${MAX_FILTERS} by default ` +
        '(https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html)',
    );
  }
  return filters.map((filter, index) => compileFilter(filter, `filters[${index}]`));
}

function compileFilter(filter: FilterSpec, where: string): CompiledFilter {
  const pattern = filter?.pattern;
  if (!isPlainObject(pattern)) fail(where, 'pattern', 'the pattern must be a JSON object');
  const length = JSON.stringify(pattern).length;
  if (length > MAX_PATTERN_LENGTH) {
    fail(
      where,
      'pattern',
      `the pattern is ${length} characters; Lambda takes at most ${MAX_PATTERN_LENGTH} (API_Filter)`,
    );
  }
  for (const key of Object.keys(pattern)) {
    if (key !== 'value') {
      fail(
        where,
        key,
        'Amazon MSK and self-managed Kafka event-source mappings only support filtering on the ' +
          '`value` key (https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-filtering.html)',
      );
    }
  }
  if (!('value' in pattern)) return {};
  const value = pattern.value;
  if (Array.isArray(value)) {
    const rules = compileRules(value, where, 'value');
    return { text: (text) => rules(text) };
  }
  if (isPlainObject(value)) return { json: compileObject(value, where, 'value') };
  return fail(where, 'value', 'must be a list of rules (plain-string value) or an object (JSON value)');
}

function compileObject(pattern: Record<string, unknown>, where: string, path: string): NodeMatcher {
  const checks: NodeMatcher[] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    const subPath = `${path}.${key}`;
    if (key === '$or') {
      // "Or (multiple fields)" (invocation-eventfiltering.html); event-ruler reads `$or` as an OR only
      // when it holds a list of two or more objects.
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isPlainObject)) {
        fail(where, subPath, '"$or" takes a list of at least two objects, e.g. [{"a": [1]}, {"b": [2]}]');
      }
      const branches = (sub as Record<string, unknown>[]).map((branch, i) =>
        compileObject(branch, where, `${subPath}[${i}]`),
      );
      checks.push((node) => branches.some((branch) => branch(node)));
    } else if (Array.isArray(sub)) {
      const rules = compileRules(sub, where, subPath);
      checks.push((node) => matchLeaves(rules, field(node, key)));
    } else if (isPlainObject(sub)) {
      const nested = compileObject(sub, where, subPath);
      checks.push((node) => nested(field(node, key)));
    } else {
      fail(where, subPath, `must be a list of rules or a nested object, not ${JSON.stringify(sub)}`);
    }
  }
  const all: NodeMatcher = (node) => {
    for (const check of checks) if (!check(node)) return false;
    return true;
  };
  // An array of objects in the record matches when one of its elements does (event-ruler README,
  // "JSON Array Matching"); all the fields of this level must match in that same element.
  const matcher: NodeMatcher = (node) => (Array.isArray(node) ? node.some(matcher) : all(node));
  return matcher;
}

/** The rules of one field: a list, matched when any rule matches (Or); `exists` apart. */
interface FieldRules {
  (text: string): boolean;
  readonly rules: readonly Rule[];
  /** `{"exists": true|false}` in the list, if any. */
  readonly exists: readonly boolean[];
}

function compileRules(list: unknown[], where: string, path: string): FieldRules {
  if (list.length === 0) fail(where, path, 'an empty list of rules matches nothing; Lambda refuses it');
  const rules: Rule[] = [];
  const exists: boolean[] = [];
  list.forEach((rule, i) => {
    const at = `${path}[${i}]`;
    if (isPlainObject(rule) && Object.keys(rule).length === 1 && 'exists' in rule) {
      if (typeof rule.exists !== 'boolean') fail(where, at, '"exists" takes true or false');
      exists.push(rule.exists);
    } else {
      rules.push(compileRule(rule, where, at));
    }
  });
  const matchText = (text: string) => rules.some((rule) => rule(text)) || exists.includes(true);
  return Object.assign(matchText, { rules, exists });
}

/** The value of `key` in `node`, or undefined when `node` is not an object holding it. */
function field(node: unknown, key: string): unknown {
  return isPlainObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
}

/** Leaf values of a field (an array contributes its elements); objects are not leaves. */
function leaves(value: unknown, into: Leaf[]): Leaf[] {
  if (Array.isArray(value)) {
    for (const element of value) leaves(element, into);
  } else if (value !== undefined && !isPlainObject(value)) {
    into.push(value as Leaf);
  }
  return into;
}

function matchLeaves(field: FieldRules, value: unknown): boolean {
  const values = leaves(value, []);
  // Exists "only works on leaf nodes" (invocation-eventfiltering.html): an object, a missing key or
  // an empty array does not exist; `exists: false` matches them.
  if (field.exists.length > 0 && field.exists.includes(values.length > 0)) return true;
  for (const rule of field.rules) {
    for (const v of values) if (rule(v)) return true;
  }
  return false;
}

const STRING_OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard'] as const;

function compileRule(rule: unknown, where: string, at: string): Rule {
  // Null, Empty, Equals: a literal matches the same JSON value.
  if (rule === null || typeof rule === 'string' || typeof rule === 'boolean') return (v) => v === rule;
  if (typeof rule === 'number') {
    if (!Number.isFinite(rule)) fail(where, at, `${rule} is not a JSON number`);
    return (v) => v === rule;
  }
  if (!isPlainObject(rule)) {
    return fail(
      where,
      at,
      `a rule is a string, number, boolean, null or {operator: …}, not ${JSON.stringify(rule)}`,
    );
  }
  const keys = Object.keys(rule);
  if (keys.length !== 1) {
    fail(
      where,
      at,
      `a rule object holds exactly one operator, got ${keys.length === 0 ? 'none' : keys.join(', ')}`,
    );
  }
  const operator = keys[0] as string;
  const argument = rule[operator];
  const here = `${at} "${operator}"`;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      return stringOperator(operator, argument, where, here, true);
    case 'equals-ignore-case':
    case 'wildcard':
      return stringOperator(operator, argument, where, here, false);
    case 'anything-but':
      return anythingBut(argument, where, here);
    case 'numeric':
      return numeric(argument, where, here);
    case 'exists':
      return fail(where, here, '"exists" must be alone in its rule object');
    case 'cidr':
      return fail(where, here, 'IP address matching is not supported by the local event-source mapping');
    default:
      return fail(
        where,
        here,
        `unknown operator "${operator}" (see invocation-eventfiltering.html, Filter rule syntax)`,
      );
  }
}

/** `prefix`, `suffix` (each also as `{equals-ignore-case: …}`), `equals-ignore-case`, `wildcard`:
 * string values only (eb-create-pattern-operators.html). */
function stringOperator(
  operator: (typeof STRING_OPERATORS)[number],
  argument: unknown,
  where: string,
  here: string,
  ignoreCaseForm: boolean,
): Rule {
  if (ignoreCaseForm && isPlainObject(argument)) {
    const keys = Object.keys(argument);
    if (
      keys.length !== 1 ||
      keys[0] !== 'equals-ignore-case' ||
      typeof argument['equals-ignore-case'] !== 'string'
    ) {
      fail(where, here, `takes a string or {"equals-ignore-case": string}, not ${JSON.stringify(argument)}`);
    }
    const wanted = (argument['equals-ignore-case'] as string).toLowerCase();
    return operator === 'prefix'
      ? (v) => typeof v === 'string' && v.toLowerCase().startsWith(wanted)
      : (v) => typeof v === 'string' && v.toLowerCase().endsWith(wanted);
  }
  if (typeof argument !== 'string') fail(where, here, `takes a string, not ${JSON.stringify(argument)}`);
  const s = argument as string;
  switch (operator) {
    case 'prefix':
      return (v) => typeof v === 'string' && v.startsWith(s);
    case 'suffix':
      return (v) => typeof v === 'string' && v.endsWith(s);
    case 'equals-ignore-case': {
      const lower = s.toLowerCase();
      return (v) => typeof v === 'string' && v.toLowerCase() === lower;
    }
    case 'wildcard': {
      const regex = wildcardRegExp(s, where, here);
      return (v) => typeof v === 'string' && regex.test(v);
    }
  }
}

/**
 * `*` matches any run of characters; "consecutive wildcard characters are not allowed"; `\*` is a
 * literal asterisk and `\\` a backslash, and "a backslash escaping any character other than asterisk
 * or backslash is not allowed" (event-ruler README, Wildcard matching).
 */
function wildcardRegExp(pattern: string, where: string, here: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        fail(
          where,
          here,
          `invalid escape at position ${i} of ${JSON.stringify(pattern)}: only \\* and \\\\ are allowed`,
        );
      }
      source += `\\${next}`;
      i++;
    } else if (c === '*') {
      if (pattern[i + 1] === '*') {
        fail(where, here, `consecutive wildcard characters at position ${i} of ${JSON.stringify(pattern)}`);
      }
      source += '.*';
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'su');
}

/**
 * Not: `anything-but` with a string, a number, a list of only strings or only numbers, or
 * `{prefix|suffix|equals-ignore-case|wildcard: …}` (eb-create-pattern-operators.html). It matches a
 * value that is present and not excluded.
 */
function anythingBut(argument: unknown, where: string, here: string): Rule {
  if (typeof argument === 'string' || typeof argument === 'number') {
    if (typeof argument === 'number' && !Number.isFinite(argument))
      fail(where, here, 'takes a finite number');
    return (v) => v !== argument;
  }
  if (Array.isArray(argument)) {
    const allStrings = argument.every((a) => typeof a === 'string');
    const allNumbers = argument.every((a) => typeof a === 'number' && Number.isFinite(a));
    if (argument.length === 0 || !(allStrings || allNumbers)) {
      fail(
        where,
        here,
        `takes a non-empty list of only strings or only numbers, not ${JSON.stringify(argument)}`,
      );
    }
    const excluded = new Set<Leaf>(argument as Leaf[]);
    return (v) => !excluded.has(v);
  }
  if (isPlainObject(argument)) {
    const keys = Object.keys(argument);
    const operator = keys[0];
    if (keys.length !== 1 || !(STRING_OPERATORS as readonly string[]).includes(operator as string)) {
      fail(
        where,
        here,
        `takes {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": …}, not ${JSON.stringify(argument)}`,
      );
    }
    const inner = argument[operator as string];
    const multi = operator === 'equals-ignore-case' || operator === 'wildcard';
    const values = multi && Array.isArray(inner) ? inner : [inner];
    if (values.length === 0 || !values.every((s) => typeof s === 'string')) {
      fail(
        where,
        `${here}.${operator}`,
        multi
          ? 'takes a string or a non-empty list of strings'
          : `takes a string, not ${JSON.stringify(inner)}`,
      );
    }
    const rules = values.map((s) =>
      stringOperator(operator as (typeof STRING_OPERATORS)[number], s, where, `${here}.${operator}`, false),
    );
    return (v) => !rules.some((rule) => rule(v));
  }
  return fail(where, here, `takes a string, a number, a list or an object, not ${JSON.stringify(argument)}`);
}

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

/**
 * Numeric (equals) `["=", n]` and (range) `[op, n]` or `[">"|">=", low, "<"|"<=", high]`
 * (invocation-eventfiltering.html; event-ruler README, Numeric matching): JSON numbers only.
 */
function numeric(argument: unknown, where: string, here: string): Rule {
  const usage = 'takes ["=", n], [op, n] or [">"|">=", low, "<"|"<=", high]';
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    return fail(where, here, `${usage}, not ${JSON.stringify(argument)}`);
  }
  const tests: Array<(v: number) => boolean> = [];
  for (let i = 0; i < argument.length; i += 2) {
    const op = argument[i];
    const bound = argument[i + 1];
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      fail(where, here, `${usage}; ${JSON.stringify(bound)} after ${JSON.stringify(op)} is not a number`);
    }
    const b = bound as number;
    if (argument.length === 4 && !(i === 0 ? LOWER : UPPER).has(op as string)) {
      fail(
        where,
        here,
        `${usage}; a range starts with > or >= and ends with < or <=, not ${JSON.stringify(argument)}`,
      );
    }
    switch (op) {
      case '=':
        tests.push((v) => v === b);
        break;
      case '<':
        tests.push((v) => v < b);
        break;
      case '<=':
        tests.push((v) => v <= b);
        break;
      case '>':
        tests.push((v) => v > b);
        break;
      case '>=':
        tests.push((v) => v >= b);
        break;
      default:
        fail(where, here, `${usage}; unknown comparison ${JSON.stringify(op)}`);
    }
  }
  if (argument.length === 4 && !((argument[1] as number) < (argument[3] as number))) {
    fail(
      where,
      here,
      `the range ${JSON.stringify(argument)} is empty: its lower bound is not below its upper bound`,
    );
  }
  return (v) => typeof v === 'number' && tests.every((test) => test(v));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(where: string, path: string, message: string): never {
  throw new FilterPatternError(`Invalid filter ${where} at ${path}: ${message}`);
}
