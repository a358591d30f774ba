/**
 * BACKWARD compatibility of two JSON Schema (draft-07) definitions of one contract: can a consumer
 * using the new definition read every record written with the previous one? Equivalently, does the
 * new schema accept everything the previous one accepted?
 *
 * Why here, and not only in Glue: the registry registers every contract with compatibility
 * `BACKWARD` (lib/constructs/schema-registry.ts), which the Glue docs define as "data receivers can
 * read both the current and one previous schema version": each new version is checked against the
 * latest one only (https://docs.aws.amazon.com/glue/latest/dg/schema-registry.html#schema-registry-compatibility).
 * That check happens at deploy time, and for the JSON data format Glue does not document its rules;
 * AWS's own client library ships a client-side JSON Schema compatibility checker whose comment says
 * it "provides compatibility validation that AWS Glue service should perform but doesn't correctly
 * implement for JSON Schema (as of Dec 2024)" (awslabs/aws-glue-schema-registry,
 * common/src/main/java/com/amazonaws/services/schemaregistry/common/compatibility/JsonSchemaCompatibilityChecker.java;
 * also awslabs/aws-glue-schema-registry#172 and #494). So the tests run this check on every contract
 * change (test/unit/schema-compatibility.test.ts) instead of trusting the deploy to refuse one.
 *
 * The rules are Confluent Schema Registry's JSON Schema diff rules, which work on the Everit schema
 * model Glue validates JSON with (confluentinc/schema-registry,
 * json-schema-provider/src/main/java/io/confluent/kafka/schemaregistry/json/diff/: SchemaDiff,
 * ObjectSchemaDiff, StringSchemaDiff, NumberSchemaDiff, EnumSchemaDiff, ConstSchemaDiff,
 * ArraySchemaDiff, CombinedSchemaDiff), and each difference is named after its `Difference.Type`,
 * compatible when that type is in `SchemaDiff.COMPATIBLE_CHANGES`. Only the subset the contracts use
 * is implemented; anything else is reported as incompatible (conservatively), never passed silently:
 * - a keyword this checker does not know whose value changed: `UNSUPPORTED_KEYWORD_CHANGED`;
 * - `format` added or changed: `FORMAT_ADDED`, `FORMAT_CHANGED` (Confluent's StringSchemaDiff does
 *   not compare formats at all, yet a new format refuses strings the old schema accepted);
 *   `FORMAT_REMOVED` is compatible;
 * - `patternProperties` keys added or removed: `PATTERN_PROPERTIES_CHANGED`;
 * - tuple `items` (an array of schemas) that differ: `UNSUPPORTED_KEYWORD_CHANGED`.
 * Those four names are this checker's own; every other name is upstream's.
 */

export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** One difference between the previous and the new definition. */
export interface Difference {
  /** Upstream `Difference.Type` name (or one of this checker's four, above). */
  readonly rule: string;
  readonly compatible: boolean;
  /** Where in the data: a JSON Pointer of property names, `*` for any array item or map value. */
  readonly field: string;
  /** Where in the new (or, if gone, previous) schema: a JSON Pointer from `#`. */
  readonly schemaPath: string;
  /** What changed, for people. */
  readonly detail: string;
}

/** Upstream `SchemaDiff.COMPATIBLE_CHANGES`, restricted to the names this checker reports, plus FORMAT_REMOVED. */
const COMPATIBLE = new Set([
  'ID_CHANGED',
  'DESCRIPTION_CHANGED',
  'TITLE_CHANGED',
  'DEFAULT_CHANGED',
  'SCHEMA_REMOVED',
  'TYPE_EXTENDED',
  'MAX_LENGTH_INCREASED',
  'MAX_LENGTH_REMOVED',
  'MIN_LENGTH_DECREASED',
  'MIN_LENGTH_REMOVED',
  'PATTERN_REMOVED',
  'FORMAT_REMOVED',
  'MAXIMUM_INCREASED',
  'MAXIMUM_REMOVED',
  'MINIMUM_DECREASED',
  'MINIMUM_REMOVED',
  'EXCLUSIVE_MAXIMUM_INCREASED',
  'EXCLUSIVE_MAXIMUM_REMOVED',
  'EXCLUSIVE_MINIMUM_DECREASED',
  'EXCLUSIVE_MINIMUM_REMOVED',
  'MULTIPLE_OF_REDUCED',
  'MULTIPLE_OF_REMOVED',
  'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED',
  'REQUIRED_ATTRIBUTE_REMOVED',
  'MAX_PROPERTIES_INCREASED',
  'MAX_PROPERTIES_REMOVED',
  'MIN_PROPERTIES_DECREASED',
  'MIN_PROPERTIES_REMOVED',
  'ADDITIONAL_PROPERTIES_ADDED',
  'ADDITIONAL_PROPERTIES_EXTENDED',
  'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL',
  'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL',
  'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
  'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL',
  'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'MAX_ITEMS_INCREASED',
  'MAX_ITEMS_REMOVED',
  'MIN_ITEMS_DECREASED',
  'MIN_ITEMS_REMOVED',
  'UNIQUE_ITEMS_REMOVED',
  'ENUM_ARRAY_EXTENDED',
  'COMBINED_TYPE_EXTENDED',
  'PRODUCT_TYPE_NARROWED',
  'SUM_TYPE_EXTENDED',
]);

/** Keywords that only annotate: a change is reported (compatible) but never constrains data. */
const ANNOTATIONS: Readonly<Record<string, string | undefined>> = {
  $id: 'ID_CHANGED',
  title: 'TITLE_CHANGED',
  description: 'DESCRIPTION_CHANGED',
  default: 'DEFAULT_CHANGED',
  examples: undefined,
  $comment: undefined,
  // Definitions are compared where a $ref points at them.
  definitions: undefined,
  $defs: undefined,
};

const COMBINATORS = ['anyOf', 'oneOf', 'allOf'] as const;

/** Every keyword compared below; any other keyword is compared for equality only. */
const HANDLED = new Set([
  'type',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  '$ref',
  ...COMBINATORS,
  ...Object.keys(ANNOTATIONS),
]);

type Node = { readonly [keyword: string]: unknown };

interface Location {
  readonly field: string;
  readonly schemaPath: string;
}

interface Context {
  readonly previousRoot: JsonSchema;
  readonly nextRoot: JsonSchema;
  /** $ref pairs being compared, so that recursive definitions end. */
  readonly refs: Set<string>;
}

/** Every difference between `previous` and `next`, compatible or not. */
export function differences(previous: JsonSchema, next: JsonSchema): Difference[] {
  const ctx: Context = { previousRoot: previous, nextRoot: next, refs: new Set() };
  return compare(ctx, previous, next, { field: '', schemaPath: '#' });
}

/** The differences that make `next` not BACKWARD compatible with `previous` (none: compatible). */
export function backwardIncompatibilities(previous: JsonSchema, next: JsonSchema): Difference[] {
  return differences(previous, next).filter((d) => !d.compatible);
}

/** One line for people: field, rule, schema path, what changed. */
export function describeDifference(d: Difference): string {
  return `${d.field || '(the record)'}: ${d.rule} at ${d.schemaPath}: ${d.detail}`;
}

function diff(at: Location, rule: string, detail: string, keyword?: string): Difference {
  return {
    rule,
    compatible: COMPATIBLE.has(rule),
    field: at.field,
    schemaPath: keyword === undefined ? at.schemaPath : `${at.schemaPath}/${pointerToken(keyword)}`,
    detail,
  };
}

const pointerToken = (token: string) => token.replaceAll('~', '~0').replaceAll('/', '~1');
const child = (at: Location, schemaPath: string, field?: string): Location => ({
  field: field === undefined ? at.field : `${at.field}/${pointerToken(field)}`,
  schemaPath: `${at.schemaPath}/${schemaPath}`,
});
const isNode = (s: unknown): s is Node => typeof s === 'object' && s !== null && !Array.isArray(s);
const json = (v: unknown) => JSON.stringify(canonical(v));
const same = (a: unknown, b: unknown) => json(a) === json(b);

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isNode(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  }
  return v;
}

/** `true`, `{}` or a schema with annotations only: accepts everything. */
function acceptsAll(s: JsonSchema): boolean {
  return s === true || (isNode(s) && Object.keys(s).every((k) => k in ANNOTATIONS || k === '$schema'));
}

function resolve(s: JsonSchema, root: JsonSchema): JsonSchema {
  if (!isNode(s) || typeof s.$ref !== 'string') return s;
  const ref = s.$ref;
  if (!ref.startsWith('#')) throw new Error(`$ref "${ref}" is not local: the checker resolves "#/..." only`);
  let target: unknown = root;
  for (const token of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(token).replaceAll('~1', '/').replaceAll('~0', '~');
    target = isNode(target) ? target[key] : undefined;
  }
  if (typeof target !== 'boolean' && !isNode(target)) throw new Error(`$ref "${ref}" points at nothing`);
  return target as JsonSchema;
}

function compare(ctx: Context, previous: JsonSchema, next: JsonSchema, at: Location): Difference[] {
  const refOf = (s: JsonSchema) => (isNode(s) && typeof s.$ref === 'string' ? s.$ref : '');
  const refKey = `${refOf(previous)}|${refOf(next)}`;
  if (refKey !== '|') {
    if (ctx.refs.has(refKey)) return [];
    ctx.refs.add(refKey);
    try {
      return compareResolved(ctx, resolve(previous, ctx.previousRoot), resolve(next, ctx.nextRoot), at);
    } finally {
      ctx.refs.delete(refKey);
    }
  }
  return compareResolved(ctx, previous, next, at);
}

function compareResolved(ctx: Context, previous: JsonSchema, next: JsonSchema, at: Location): Difference[] {
  if (previous === false) return []; // nothing was valid before
  if (acceptsAll(next)) return acceptsAll(previous) ? annotations(previous, next, at) : [];
  if (next === false || acceptsAll(previous) || !isNode(previous) || !isNode(next)) {
    return [diff(at, 'TYPE_CHANGED', 'the new schema accepts less than the previous one')];
  }

  const out: Difference[] = [];
  // A non-combined schema that became a union: compatible when one branch reads all it accepted.
  const prevCombined = COMBINATORS.some((k) => k in previous);
  const nextCombined = COMBINATORS.some((k) => k in next);
  if (!prevCombined && nextCombined) {
    const branches = (next.anyOf ?? next.oneOf) as JsonSchema[] | undefined;
    if (branches && onlyCombinator(next)) {
      for (const [i, branch] of branches.entries()) {
        const sub = compare(ctx, previous, branch, child(at, `${next.anyOf ? 'anyOf' : 'oneOf'}/${i}`));
        if (sub.every((d) => d.compatible)) {
          return [
            ...sub,
            diff(at, 'SUM_TYPE_EXTENDED', 'the schema became a union with a branch that reads it'),
          ];
        }
      }
    }
  }
  if (prevCombined && !nextCombined && onlyCombinator(previous)) {
    const [keyword, branches] = combinatorOf(previous);
    if (branches.length === 1 || keyword === 'allOf') {
      for (const [i, branch] of branches.entries()) {
        const sub = compare(ctx, branch, next, child(at, `${keyword}/${i}`));
        if (sub.every((d) => d.compatible)) {
          return branches.length === 1
            ? sub
            : [...sub, diff(at, 'PRODUCT_TYPE_NARROWED', `the ${keyword} became one of its branches`)];
        }
      }
    }
  }

  out.push(...annotations(previous, next, at));
  const typeDifference = compareTypes(previous, next, at);
  if (typeDifference) {
    out.push(typeDifference);
    if (typeDifference.rule === 'TYPE_CHANGED') return out;
  }
  out.push(...compareEnum(previous, next, at));
  out.push(...compareStrings(previous, next, at));
  out.push(...compareNumbers(previous, next, at));
  out.push(...compareObjects(ctx, previous, next, at));
  out.push(...compareArrays(ctx, previous, next, at));
  out.push(...compareCombinators(ctx, previous, next, at));
  for (const keyword of new Set([...Object.keys(previous), ...Object.keys(next)])) {
    if (HANDLED.has(keyword) || same(previous[keyword], next[keyword])) continue;
    out.push(
      diff(
        at,
        'UNSUPPORTED_KEYWORD_CHANGED',
        `keyword "${keyword}" changed (${json(previous[keyword]) ?? 'absent'} → ${json(next[keyword]) ?? 'absent'}); the checker does not judge it, so it counts as incompatible`,
        keyword,
      ),
    );
  }
  return out;
}

function onlyCombinator(s: Node): boolean {
  return Object.keys(s).filter((k) => !(k in ANNOTATIONS) && k !== '$schema').length === 1;
}

function combinatorOf(s: Node): [string, JsonSchema[]] {
  const keyword = COMBINATORS.find((k) => k in s) as string;
  return [keyword, s[keyword] as JsonSchema[]];
}

function annotations(previous: JsonSchema, next: JsonSchema, at: Location): Difference[] {
  if (!isNode(previous) || !isNode(next)) return [];
  return Object.entries(ANNOTATIONS).flatMap(([keyword, rule]) =>
    rule && !same(previous[keyword], next[keyword]) ? [diff(at, rule, `${keyword} changed`, keyword)] : [],
  );
}

// ---------------------------------------------------------------------------------------------- type

const ALL_TYPES = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];

function typesOf(s: Node): Set<string> {
  if (s.type === undefined) return new Set(ALL_TYPES);
  const types = new Set(Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]);
  if (types.has('number')) types.add('integer');
  return types;
}

function compareTypes(previous: Node, next: Node, at: Location): Difference | undefined {
  const before = typesOf(previous);
  const after = typesOf(next);
  const lost = [...before].filter((t) => !after.has(t));
  const gained = [...after].filter((t) => !before.has(t));
  const show = (s: Node) => json(s.type) ?? 'any type';
  if (lost.length === 0 && gained.length === 0) {
    // integer and number are told apart only by the number's other values
    return undefined;
  }
  if (lost.length === 0) return diff(at, 'TYPE_EXTENDED', `type ${show(previous)} → ${show(next)}`, 'type');
  if (gained.length === 0) return diff(at, 'TYPE_NARROWED', `type ${show(previous)} → ${show(next)}`, 'type');
  return diff(at, 'TYPE_CHANGED', `type ${show(previous)} → ${show(next)}`, 'type');
}

// ---------------------------------------------------------------------------------------- enum/const

function valuesOf(s: Node): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum;
  return 'const' in s ? [s.const] : undefined;
}

function compareEnum(previous: Node, next: Node, at: Location): Difference[] {
  const before = valuesOf(previous);
  const after = valuesOf(next);
  const keyword = 'enum' in next || !('const' in next) ? 'enum' : 'const';
  if (before === undefined && after === undefined) return [];
  if (after === undefined) return [diff(at, 'ENUM_ARRAY_EXTENDED', 'any value allowed now', keyword)];
  if (before === undefined) {
    return [diff(at, 'ENUM_ARRAY_NARROWED', `restricted to ${json(after)}`, keyword)];
  }
  const b = new Set(before.map(json));
  const a = new Set(after.map(json));
  const removed = [...b].filter((v) => !a.has(v));
  const added = [...a].filter((v) => !b.has(v));
  if (removed.length === 0 && added.length === 0) return [];
  if (removed.length === 0) return [diff(at, 'ENUM_ARRAY_EXTENDED', `added ${added.join(', ')}`, keyword)];
  if (added.length === 0) return [diff(at, 'ENUM_ARRAY_NARROWED', `removed ${removed.join(', ')}`, keyword)];
  return [
    diff(at, 'ENUM_ARRAY_CHANGED', `removed ${removed.join(', ')}; added ${added.join(', ')}`, keyword),
  ];
}

// ------------------------------------------------------------------------------------- bounds, text

/**
 * A numeric bound: ADDED, REMOVED, INCREASED or DECREASED, under `prefix` (e.g. MAX_LENGTH).
 */
function compareBound(
  previous: Node,
  next: Node,
  keyword: string,
  prefix: string,
  at: Location,
): Difference[] {
  const b = previous[keyword] as number | undefined;
  const a = next[keyword] as number | undefined;
  if (b === a) return [];
  const rule =
    b === undefined
      ? 'ADDED'
      : a === undefined
        ? 'REMOVED'
        : (b as number) < (a as number)
          ? 'INCREASED'
          : 'DECREASED';
  return [diff(at, `${prefix}_${rule}`, `${keyword} ${b ?? 'absent'} → ${a ?? 'absent'}`, keyword)];
}

function compareStrings(previous: Node, next: Node, at: Location): Difference[] {
  const out = [
    ...compareBound(previous, next, 'maxLength', 'MAX_LENGTH', at),
    ...compareBound(previous, next, 'minLength', 'MIN_LENGTH', at),
  ];
  for (const [keyword, prefix] of [
    ['pattern', 'PATTERN'],
    ['format', 'FORMAT'],
  ] as const) {
    const b = previous[keyword];
    const a = next[keyword];
    if (b === a) continue;
    const rule = b === undefined ? 'ADDED' : a === undefined ? 'REMOVED' : 'CHANGED';
    out.push(
      diff(at, `${prefix}_${rule}`, `${keyword} ${json(b) ?? 'absent'} → ${json(a) ?? 'absent'}`, keyword),
    );
  }
  return out;
}

function compareNumbers(previous: Node, next: Node, at: Location): Difference[] {
  const out = [
    ...compareBound(previous, next, 'maximum', 'MAXIMUM', at),
    ...compareBound(previous, next, 'minimum', 'MINIMUM', at),
    ...compareBound(previous, next, 'exclusiveMaximum', 'EXCLUSIVE_MAXIMUM', at),
    ...compareBound(previous, next, 'exclusiveMinimum', 'EXCLUSIVE_MINIMUM', at),
  ];
  const b = previous.multipleOf as number | undefined;
  const a = next.multipleOf as number | undefined;
  if (b !== a) {
    const divides = (x: number, y: number) => Number.isInteger(y / x);
    const rule =
      b === undefined
        ? 'MULTIPLE_OF_ADDED'
        : a === undefined
          ? 'MULTIPLE_OF_REMOVED'
          : divides(b, a)
            ? 'MULTIPLE_OF_EXPANDED'
            : divides(a, b)
              ? 'MULTIPLE_OF_REDUCED'
              : 'MULTIPLE_OF_CHANGED';
    out.push(diff(at, rule, `multipleOf ${b ?? 'absent'} → ${a ?? 'absent'}`, 'multipleOf'));
  }
  return out;
}

// -------------------------------------------------------------------------------------------- object

const propertiesOf = (s: Node) => (isNode(s.properties) ? (s.properties as Record<string, JsonSchema>) : {});
const requiredOf = (s: Node) => new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
const patternsOf = (s: Node) =>
  isNode(s.patternProperties) ? (s.patternProperties as Record<string, JsonSchema>) : {};
const permitsAdditional = (s: Node) => s.additionalProperties !== false;
const additionalSchemaOf = (s: Node) =>
  isNode(s.additionalProperties) ? (s.additionalProperties as Node) : undefined;
const hasDefault = (s: JsonSchema | undefined) => isNode(s) && 'default' in s;

/** Open: no patternProperties and additionalProperties absent or true (ObjectSchemaDiff.isOpenContentModel). */
function isOpen(s: Node): boolean {
  return (
    Object.keys(patternsOf(s)).length === 0 && additionalSchemaOf(s) === undefined && permitsAdditional(s)
  );
}

/** The schema a partially open model gives property `key` (ObjectSchemaDiff.schemaFromPartiallyOpenContentModel). */
function partialSchemaFor(s: Node, key: string): JsonSchema | undefined {
  for (const [pattern, schema] of Object.entries(patternsOf(s))) {
    if (new RegExp(pattern, 'u').test(key)) return schema;
  }
  return additionalSchemaOf(s);
}

const OBJECT_KEYWORDS = [
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
];

function compareObjects(ctx: Context, previous: Node, next: Node, at: Location): Difference[] {
  if (!OBJECT_KEYWORDS.some((k) => k in previous || k in next)) return [];
  const out: Difference[] = [];
  const before = propertiesOf(previous);
  const after = propertiesOf(next);
  const requiredBefore = requiredOf(previous);
  const requiredAfter = requiredOf(next);

  // compareRequired
  for (const key of new Set([...requiredBefore, ...requiredAfter])) {
    // An added or removed property: compareProperties judges it.
    if (Object.hasOwn(before, key) !== Object.hasOwn(after, key)) continue;
    const loc = child(at, `required`, key);
    if (requiredBefore.has(key) && !requiredAfter.has(key)) {
      out.push(diff(loc, 'REQUIRED_ATTRIBUTE_REMOVED', `"${key}" is no longer required`));
    } else if (!requiredBefore.has(key) && requiredAfter.has(key)) {
      out.push(
        hasDefault(after[key])
          ? diff(loc, 'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED', `"${key}" is now required, with a default`)
          : diff(
              loc,
              'REQUIRED_ATTRIBUTE_ADDED',
              `"${key}" is now required; records written before may lack it`,
            ),
      );
    }
  }

  // compareProperties
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const loc = child(at, `properties/${pointerToken(key)}`, key);
    const b = Object.hasOwn(before, key) ? before[key] : undefined;
    const a = Object.hasOwn(after, key) ? after[key] : undefined;
    if (a === undefined) {
      if (isOpen(next)) {
        out.push(
          diff(loc, 'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL', `"${key}" removed; any value is allowed`),
        );
        continue;
      }
      const partial = partialSchemaFor(next, key);
      if (partial !== undefined) {
        const sub = compare(ctx, b as JsonSchema, partial, loc);
        out.push(...sub);
        out.push(
          sub.every((d) => d.compatible)
            ? diff(loc, 'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', `"${key}" removed`)
            : diff(loc, 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', `"${key}" removed`),
        );
      } else if (b === false) {
        out.push(diff(loc, 'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL', `"${key}" removed`));
      } else {
        out.push(
          diff(
            loc,
            'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
            `"${key}" removed from a closed object: records that have it become invalid`,
          ),
        );
      }
    } else if (b === undefined) {
      if (isOpen(previous)) {
        out.push(
          acceptsAll(a)
            ? diff(loc, 'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL', `"${key}" added, any value`)
            : diff(
                loc,
                'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
                `"${key}" added to an open object: records written before may carry "${key}" with any value`,
              ),
        );
        continue;
      }
      const partial = partialSchemaFor(previous, key);
      if (partial !== undefined) {
        const sub = compare(ctx, partial, a, loc);
        out.push(...sub);
        out.push(
          sub.every((d) => d.compatible)
            ? diff(loc, 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', `"${key}" added`)
            : diff(loc, 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', `"${key}" added`),
        );
      }
      if (requiredAfter.has(key)) {
        out.push(
          hasDefault(a)
            ? diff(
                loc,
                'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL',
                `"${key}" added, required`,
              )
            : diff(
                loc,
                'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
                `required "${key}" added: records written before lack it`,
              ),
        );
      } else {
        out.push(diff(loc, 'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', `optional "${key}" added`));
      }
    } else {
      out.push(...compare(ctx, b, a, loc));
    }
  }

  // compareAdditionalProperties
  const ap = child(at, 'additionalProperties', '*');
  if (permitsAdditional(previous) !== permitsAdditional(next)) {
    out.push(
      permitsAdditional(next)
        ? diff(ap, 'ADDITIONAL_PROPERTIES_ADDED', 'other properties are allowed now')
        : diff(
            ap,
            'ADDITIONAL_PROPERTIES_REMOVED',
            'the object was closed (additionalProperties: false): records with other properties become invalid',
          ),
    );
  } else if (additionalSchemaOf(previous) === undefined && additionalSchemaOf(next) !== undefined) {
    out.push(diff(ap, 'ADDITIONAL_PROPERTIES_NARROWED', 'other properties now have a schema'));
  } else if (additionalSchemaOf(previous) !== undefined && additionalSchemaOf(next) === undefined) {
    out.push(diff(ap, 'ADDITIONAL_PROPERTIES_EXTENDED', 'other properties may have any value now'));
  } else if (additionalSchemaOf(previous) !== undefined) {
    out.push(...compare(ctx, additionalSchemaOf(previous) as Node, additionalSchemaOf(next) as Node, ap));
  }

  // patternProperties (not compared by upstream beyond the partially open model): same keys only
  const patternsBefore = patternsOf(previous);
  const patternsAfter = patternsOf(next);
  for (const pattern of new Set([...Object.keys(patternsBefore), ...Object.keys(patternsAfter)])) {
    const loc = child(at, `patternProperties/${pointerToken(pattern)}`, '*');
    const b = patternsBefore[pattern];
    const a = patternsAfter[pattern];
    if (b !== undefined && a !== undefined) out.push(...compare(ctx, b, a, loc));
    else {
      out.push(
        diff(
          loc,
          'PATTERN_PROPERTIES_CHANGED',
          `pattern property ${json(pattern)} ${a ? 'added' : 'removed'}`,
        ),
      );
    }
  }

  out.push(...compareBound(previous, next, 'maxProperties', 'MAX_PROPERTIES', at));
  out.push(...compareBound(previous, next, 'minProperties', 'MIN_PROPERTIES', at));
  return out;
}

// --------------------------------------------------------------------------------------------- array

function compareArrays(ctx: Context, previous: Node, next: Node, at: Location): Difference[] {
  const out: Difference[] = [];
  const b = previous.items;
  const a = next.items;
  if (Array.isArray(b) || Array.isArray(a)) {
    if (!same(b, a)) {
      out.push(
        diff(
          at,
          'UNSUPPORTED_KEYWORD_CHANGED',
          'tuple items changed; the checker does not judge them',
          'items',
        ),
      );
    }
  } else if (b !== undefined || a !== undefined) {
    out.push(...compare(ctx, (b ?? true) as JsonSchema, (a ?? true) as JsonSchema, child(at, 'items', '*')));
  }
  out.push(...compareBound(previous, next, 'maxItems', 'MAX_ITEMS', at));
  out.push(...compareBound(previous, next, 'minItems', 'MIN_ITEMS', at));
  if (Boolean(previous.uniqueItems) !== Boolean(next.uniqueItems)) {
    out.push(
      next.uniqueItems
        ? diff(at, 'UNIQUE_ITEMS_ADDED', 'items must be unique now', 'uniqueItems')
        : diff(at, 'UNIQUE_ITEMS_REMOVED', 'items need not be unique now', 'uniqueItems'),
    );
  }
  return out;
}

// ------------------------------------------------------------------------------------------ combined

/** CombinedSchemaDiff, for combinators next to other keywords or on both sides. */
function compareCombinators(ctx: Context, previous: Node, next: Node, at: Location): Difference[] {
  const out: Difference[] = [];
  const before = COMBINATORS.filter((k) => k in previous);
  const after = COMBINATORS.filter((k) => k in next);
  const pairs: [string, string][] = [];
  for (const k of before) if (after.includes(k)) pairs.push([k, k]);
  const onlyBefore = before.filter((k) => !after.includes(k));
  const onlyAfter = after.filter((k) => !before.includes(k));
  // A criterion change: oneOf → anyOf accepts more (COMBINED_TYPE_EXTENDED); anything else is a change.
  if (onlyBefore.length === 1 && onlyAfter.length === 1) {
    const [b, a] = [onlyBefore[0] as string, onlyAfter[0] as string];
    const singletons = (previous[b] as unknown[]).length === 1 && (next[a] as unknown[]).length === 1;
    if (a === 'anyOf' || singletons) {
      out.push(diff(at, 'COMBINED_TYPE_EXTENDED', `${b} → ${a}`, a));
      pairs.push([b, a]);
    } else {
      out.push(diff(at, 'COMBINED_TYPE_CHANGED', `${b} → ${a}`, a));
    }
  } else {
    for (const k of onlyBefore) {
      out.push(diff(at, 'PRODUCT_TYPE_NARROWED', `${k} removed: its constraint no longer applies`, k));
    }
    for (const k of onlyAfter) {
      out.push(diff(at, 'PRODUCT_TYPE_EXTENDED', `${k} added: a new constraint`, k));
    }
  }
  for (const [b, a] of pairs)
    out.push(...compareBranches(ctx, b, previous[b] as JsonSchema[], a, next[a] as JsonSchema[], at));
  return out;
}

function compareBranches(
  ctx: Context,
  keywordBefore: string,
  before: JsonSchema[],
  keywordAfter: string,
  after: JsonSchema[],
  at: Location,
): Difference[] {
  const out: Difference[] = [];
  const dedupe = (xs: JsonSchema[]) => [...new Map(xs.map((x) => [json(x), x])).values()];
  const b = dedupe(before);
  const a = dedupe(after);
  const sum = keywordBefore !== 'allOf';
  if (b.length < a.length) {
    out.push(
      keywordAfter === 'allOf'
        ? diff(
            at,
            'PRODUCT_TYPE_EXTENDED',
            `allOf has more branches (${b.length} → ${a.length})`,
            keywordAfter,
          )
        : diff(
            at,
            'SUM_TYPE_EXTENDED',
            `${keywordAfter} has more branches (${b.length} → ${a.length})`,
            keywordAfter,
          ),
    );
  } else if (b.length > a.length) {
    out.push(
      sum
        ? diff(
            at,
            'SUM_TYPE_NARROWED',
            `${keywordAfter} lost branches (${b.length} → ${a.length})`,
            keywordAfter,
          )
        : diff(
            at,
            'PRODUCT_TYPE_NARROWED',
            `allOf has fewer branches (${b.length} → ${a.length})`,
            keywordAfter,
          ),
    );
  }
  // Maximum matching of previous branches to compatible new ones (augmenting paths; a few branches).
  const edges = b.map((prev) =>
    a.flatMap((next, j) => {
      const sub = compare(ctx, prev, next, child(at, `${keywordAfter}/${j}`));
      return sub.every((d) => d.compatible) ? [{ j, sub }] : [];
    }),
  );
  const matchOfNext = new Map<number, number>();
  const tryMatch = (i: number, seen: Set<number>): boolean => {
    for (const { j } of edges[i] ?? []) {
      if (seen.has(j)) continue;
      seen.add(j);
      const holder = matchOfNext.get(j);
      if (holder === undefined || tryMatch(holder, seen)) {
        matchOfNext.set(j, i);
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < b.length; i++) tryMatch(i, new Set());
  for (const [j, i] of matchOfNext) out.push(...((edges[i] ?? []).find((e) => e.j === j)?.sub ?? []));
  if (matchOfNext.size < Math.min(b.length, a.length)) {
    const unmatched = b.map((_, i) => i).filter((i) => ![...matchOfNext.values()].includes(i));
    out.push(
      diff(
        at,
        'COMBINED_TYPE_SUBSCHEMAS_CHANGED',
        `no compatible new branch for previous ${keywordBefore} branch(es) ${unmatched.join(', ')}`,
        keywordAfter,
      ),
    );
  }
  return out;
}
