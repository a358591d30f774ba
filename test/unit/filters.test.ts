/**
 * The local event-source mapping's filters, case by case from the AWS pages:
 * - LAMBDA: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html (Filter rule syntax table)
 * - KAFKA: https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-filtering.html
 * - EB: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 *   (the forms Lambda takes as "the same syntax as EventBridge")
 * - RULER: https://github.com/aws/event-ruler README (AWS's matching engine: arrays, wildcard escapes)
 */
import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { consumers } from '../../core/topology';
import { type ConsumerMappingOptions, consumerMapping } from '../../local/consumer-mapping';
import {
  checkFilters,
  FilterPatternError,
  type FilterSpec,
  type FilterSubject,
  kafkaValue,
  MAX_FILTERS,
  passesFilters,
} from '../../local/esm/filters';

/** A filter on the fields of a JSON value. */
const onJson = (fields: Record<string, unknown>): FilterSpec[] => [{ pattern: { value: fields } }];
const json = (value: unknown): FilterSubject => ({ json: value });

type Case = readonly [name: string, filters: FilterSpec[], subject: FilterSubject, passes: boolean];

const cases: Case[] = [
  // LAMBDA, Null: "UserID": [ null ]
  ['null: null value', onJson({ UserID: [null] }), json({ UserID: null }), true],
  ['null: a string', onJson({ UserID: [null] }), json({ UserID: 'u-1' }), false],
  ['null: missing key', onJson({ UserID: [null] }), json({}), false],
  // LAMBDA, Empty: "LastName": [""]
  ['empty: ""', onJson({ LastName: [''] }), json({ LastName: '' }), true],
  ['empty: a name', onJson({ LastName: [''] }), json({ LastName: 'Doe' }), false],
  // LAMBDA, Equals: "Name": [ "Alice" ] (exact, no case folding)
  ['equals: Alice', onJson({ Name: ['Alice'] }), json({ Name: 'Alice' }), true],
  ['equals: alice', onJson({ Name: ['Alice'] }), json({ Name: 'alice' }), false],
  ['equals: number', onJson({ N: [100] }), json({ N: 100 }), true],
  ['equals: number vs string', onJson({ N: [100] }), json({ N: '100' }), false],
  ['equals: boolean', onJson({ B: [true] }), json({ B: true }), true],
  // LAMBDA, Equals (ignore case): "Name": [ { "equals-ignore-case": "alice" } ]
  [
    'equals-ignore-case: ALICE',
    onJson({ Name: [{ 'equals-ignore-case': 'alice' }] }),
    json({ Name: 'ALICE' }),
    true,
  ],
  [
    'equals-ignore-case: Alicia',
    onJson({ Name: [{ 'equals-ignore-case': 'alice' }] }),
    json({ Name: 'Alicia' }),
    false,
  ],
  // LAMBDA, And: "Location": [ "New York" ], "Day": ["Monday"]
  [
    'and: both',
    onJson({ Location: ['New York'], Day: ['Monday'] }),
    json({ Location: 'New York', Day: 'Monday' }),
    true,
  ],
  [
    'and: one',
    onJson({ Location: ['New York'], Day: ['Monday'] }),
    json({ Location: 'New York', Day: 'Friday' }),
    false,
  ],
  // LAMBDA, Or: "PaymentType": [ "Credit", "Debit"]
  ['or: Debit', onJson({ PaymentType: ['Credit', 'Debit'] }), json({ PaymentType: 'Debit' }), true],
  ['or: Cash', onJson({ PaymentType: ['Credit', 'Debit'] }), json({ PaymentType: 'Cash' }), false],
  // LAMBDA, Or (multiple fields): "$or": [ { "Location": [ "New York" ] }, { "Day": [ "Monday" ] } ]
  [
    '$or: second branch',
    onJson({ $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }),
    json({ Location: 'Paris', Day: 'Monday' }),
    true,
  ],
  [
    '$or: no branch',
    onJson({ $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }),
    json({ Location: 'Paris', Day: 'Friday' }),
    false,
  ],
  // LAMBDA, Not: "Weather": [ { "anything-but": [ "Raining" ] } ]
  [
    'anything-but list: Sunny',
    onJson({ Weather: [{ 'anything-but': ['Raining'] }] }),
    json({ Weather: 'Sunny' }),
    true,
  ],
  [
    'anything-but list: Raining',
    onJson({ Weather: [{ 'anything-but': ['Raining'] }] }),
    json({ Weather: 'Raining' }),
    false,
  ],
  ['anything-but: missing key', onJson({ Weather: [{ 'anything-but': ['Raining'] }] }), json({}), false],
  // EB, Anything-but: "state": [ { "anything-but": "initializing" } ]; numbers: "x-limit" 123, [100, 200, 300]
  [
    'anything-but string',
    onJson({ state: [{ 'anything-but': 'initializing' }] }),
    json({ state: 'initializing' }),
    false,
  ],
  [
    'anything-but number: 124',
    onJson({ 'x-limit': [{ 'anything-but': 123 }] }),
    json({ 'x-limit': 124 }),
    true,
  ],
  [
    'anything-but number: 123',
    onJson({ 'x-limit': [{ 'anything-but': 123 }] }),
    json({ 'x-limit': 123 }),
    false,
  ],
  [
    'anything-but numbers: 200',
    onJson({ 'x-limit': [{ 'anything-but': [100, 200, 300] }] }),
    json({ 'x-limit': 200 }),
    false,
  ],
  // EB, Anything-but (begins with): "Region": [ { "anything-but": {"prefix": "us-" } } ]
  [
    'anything-but prefix: eu-',
    onJson({ Region: [{ 'anything-but': { prefix: 'us-' } }] }),
    json({ Region: 'eu-west-1' }),
    true,
  ],
  [
    'anything-but prefix: us-',
    onJson({ Region: [{ 'anything-but': { prefix: 'us-' } }] }),
    json({ Region: 'us-east-1' }),
    false,
  ],
  // EB, Anything-but (ends with): "FileName": [ { "anything-but": { "suffix": ".png" } } ]
  [
    'anything-but suffix: .jpg',
    onJson({ FileName: [{ 'anything-but': { suffix: '.png' } }] }),
    json({ FileName: 'a.jpg' }),
    true,
  ],
  [
    'anything-but suffix: .png',
    onJson({ FileName: [{ 'anything-but': { suffix: '.png' } }] }),
    json({ FileName: 'a.png' }),
    false,
  ],
  // EB, Anything-but (ignore case): "state": [{ "anything-but": { "equals-ignore-case": "initializing" }}]
  [
    'anything-but ignore case: INITIALIZING',
    onJson({ state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }),
    json({ state: 'INITIALIZING' }),
    false,
  ],
  [
    'anything-but ignore case list: running',
    onJson({ state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] }),
    json({ state: 'running' }),
    true,
  ],
  // EB, Anything-but using a wildcard: "FilePath" : [{ "anything-but": { "wildcard": "*/lib/*" }}]
  [
    'anything-but wildcard: /usr/lib/',
    onJson({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }),
    json({ FilePath: '/usr/lib/x.so' }),
    false,
  ],
  [
    'anything-but wildcard: /usr/bin/',
    onJson({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }),
    json({ FilePath: '/usr/bin/x' }),
    true,
  ],
  // LAMBDA, Numeric (equals): "Price": [ { "numeric": [ "=", 100 ] } ]
  ['numeric =: 100', onJson({ Price: [{ numeric: ['=', 100] }] }), json({ Price: 100 }), true],
  ['numeric =: 101', onJson({ Price: [{ numeric: ['=', 100] }] }), json({ Price: 101 }), false],
  [
    'numeric =: "100" is a string',
    onJson({ Price: [{ numeric: ['=', 100] }] }),
    json({ Price: '100' }),
    false,
  ],
  // LAMBDA, Numeric (range): "Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]
  ['numeric range: 20', onJson({ Price: [{ numeric: ['>', 10, '<=', 20] }] }), json({ Price: 20 }), true],
  ['numeric range: 10', onJson({ Price: [{ numeric: ['>', 10, '<=', 20] }] }), json({ Price: 10 }), false],
  [
    'numeric range: 20.5',
    onJson({ Price: [{ numeric: ['>', 10, '<=', 20] }] }),
    json({ Price: 20.5 }),
    false,
  ],
  // RULER, Numeric matching: "d-count": [ { "numeric": [ "<", 10 ] } ]
  ['numeric <: 3', onJson({ 'd-count': [{ numeric: ['<', 10] }] }), json({ 'd-count': 3 }), true],
  // LAMBDA, Exists / Does not exist: "ProductName": [ { "exists": true|false } ]
  ['exists true: present', onJson({ ProductName: [{ exists: true }] }), json({ ProductName: 'p' }), true],
  ['exists true: missing', onJson({ ProductName: [{ exists: true }] }), json({}), false],
  ['exists false: missing', onJson({ ProductName: [{ exists: false }] }), json({ other: 1 }), true],
  ['exists false: present', onJson({ ProductName: [{ exists: false }] }), json({ ProductName: 'p' }), false],
  // LAMBDA: "the Exists operator only works on leaf nodes": { "person": { "address": [ { "exists": true } ] } }
  [
    'exists true: intermediate node',
    onJson({ person: { address: [{ exists: true }] } }),
    json({ person: { name: 'John Doe', age: 30, address: { street: '123 Main St', city: 'Anytown' } } }),
    false,
  ],
  // LAMBDA, Begins with: "Region": [ {"prefix": "us-" } ]
  ['prefix: us-east-1', onJson({ Region: [{ prefix: 'us-' }] }), json({ Region: 'us-east-1' }), true],
  ['prefix: eu-west-1', onJson({ Region: [{ prefix: 'us-' }] }), json({ Region: 'eu-west-1' }), false],
  // EB, Begins with (ignore case): {"service" : [{ "prefix": { "equals-ignore-case": "eventb" }}]}
  [
    'prefix ignore case: EventBridge',
    onJson({ service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }),
    json({ service: 'EventBridge' }),
    true,
  ],
  [
    'prefix ignore case: Lambda',
    onJson({ service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }),
    json({ service: 'Lambda' }),
    false,
  ],
  // LAMBDA, Ends with: "FileName": [ { "suffix": ".png" } ]
  ['suffix: a.png', onJson({ FileName: [{ suffix: '.png' }] }), json({ FileName: 'a.png' }), true],
  ['suffix: a.PNG', onJson({ FileName: [{ suffix: '.png' }] }), json({ FileName: 'a.PNG' }), false],
  // EB, Ends with (ignore case): {"service" : [{ "suffix": { "equals-ignore-case": "tBridge" }}]}
  [
    'suffix ignore case: EVENTBRIDGE',
    onJson({ service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] }),
    json({ service: 'EVENTBRIDGE' }),
    true,
  ],
  // EB, Wildcard: "FileName": [ { "wildcard": "dir/*.png" } ]
  [
    'wildcard: dir/a.png',
    onJson({ FileName: [{ wildcard: 'dir/*.png' }] }),
    json({ FileName: 'dir/a.png' }),
    true,
  ],
  [
    'wildcard: dir/sub/a.png',
    onJson({ FileName: [{ wildcard: 'dir/*.png' }] }),
    json({ FileName: 'dir/sub/a.png' }),
    true,
  ],
  [
    'wildcard: other/a.png',
    onJson({ FileName: [{ wildcard: 'dir/*.png' }] }),
    json({ FileName: 'other/a.png' }),
    false,
  ],
  [
    'wildcard: a.png.txt',
    onJson({ FileName: [{ wildcard: 'dir/*.png' }] }),
    json({ FileName: 'dir/a.png.txt' }),
    false,
  ],
  // RULER: "Simple*Service"; "\*" is a literal asterisk, "\\" a backslash
  [
    'wildcard: Simple*Service',
    onJson({ source: [{ wildcard: 'Simple*Service' }] }),
    json({ source: 'SimpleQueueService' }),
    true,
  ],
  ['wildcard escape: a*b', onJson({ s: [{ wildcard: 'a\\*b' }] }), json({ s: 'a*b' }), true],
  ['wildcard escape: axb', onJson({ s: [{ wildcard: 'a\\*b' }] }), json({ s: 'axb' }), false],
  ['wildcard escape: backslash', onJson({ s: [{ wildcard: 'c:\\\\*' }] }), json({ s: 'c:\\dir' }), true],
  [
    'wildcard: regex characters are literal',
    onJson({ s: [{ wildcard: 'a.(b)*' }] }),
    json({ s: 'aX(b)' }),
    false,
  ],
  // RULER: an array in the event matches if any element matches ("resources")
  [
    'array: one element matches',
    onJson({ resources: ['arn:b'] }),
    json({ resources: ['arn:a', 'arn:b'] }),
    true,
  ],
  ['array: none matches', onJson({ resources: ['arn:c'] }), json({ resources: ['arn:a', 'arn:b'] }), false],
  ['array: numeric on elements', onJson({ n: [{ numeric: ['>', 5] }] }), json({ n: [1, 7] }), true],
  ['array of objects: one element', onJson({ a: { b: [1] } }), json({ a: [{ b: 0 }, { b: 1 }] }), true],
  [
    'array of objects: fields in one element',
    onJson({ a: { b: [1], c: [4] } }),
    json({
      a: [
        { b: 1, c: 2 },
        { b: 3, c: 4 },
      ],
    }),
    false,
  ],
  ['array: empty does not exist', onJson({ a: [{ exists: false }] }), json({ a: [] }), true],
  // LAMBDA: nested fields; a key the record does not have fails the match
  [
    'nested: match',
    onJson({ session: { duration: [{ numeric: ['>', 100] }] } }),
    json({ session: { duration: 162 } }),
    true,
  ],
  [
    'nested: missing parent',
    onJson({ session: { duration: [{ numeric: ['>', 100] }] } }),
    json({ device_ID: 'AB' }),
    false,
  ],
  [
    'nested: exists false under missing parent',
    onJson({ session: { end: [{ exists: false }] } }),
    json({}),
    true,
  ],
  // KAFKA: { "value": { "device_ID": [ { "prefix": "AB" } ] } } on the page's JSON record
  [
    'kafka JSON: device_ID AB1234',
    onJson({ device_ID: [{ prefix: 'AB' }] }),
    json({ device_ID: 'AB1234', session: { start_time: 'yyyy-mm-ddThh:mm:ss', duration: 162 } }),
    true,
  ],
  [
    'kafka JSON: device_ID CD1234',
    onJson({ device_ID: [{ prefix: 'AB' }] }),
    json({ device_ID: 'CD1234' }),
    false,
  ],
  // KAFKA plain string: { "value": [ { "anything-but": [ "error" ] } ] }
  [
    'kafka plain string: "error"',
    [{ pattern: { value: [{ 'anything-but': ['error'] }] } }],
    { text: 'error' },
    false,
  ],
  [
    'kafka plain string: other',
    [{ pattern: { value: [{ 'anything-but': ['error'] }] } }],
    { text: 'all good' },
    true,
  ],
  ['kafka plain string: prefix', [{ pattern: { value: [{ prefix: 'ERR' }] } }], { text: 'ERR 42' }, true],
  ['kafka plain string: equals', [{ pattern: { value: ['ping'] } }], { text: 'pong' }, false],
  // KAFKA table: a format mismatch, or a value that is not UTF-8, filters "on the other metadata
  // properties only"; a Kafka pattern has none besides `value`, so the record passes.
  [
    'kafka: JSON pattern, plain-string value',
    onJson({ device_ID: [{ prefix: 'AB' }] }),
    { text: 'AB1234' },
    true,
  ],
  ['kafka: plain-string pattern, JSON value', [{ pattern: { value: ['error'] } }], json({ a: 1 }), true],
  ['kafka: value not UTF-8', onJson({ device_ID: [{ prefix: 'AB' }] }), undefined, true],
  // LAMBDA: "Your filters are logically ORed together"; no filter delivers everything
  ['filters OR: second', [...onJson({ a: ['x'] }), ...onJson({ b: ['y'] })], json({ b: 'y' }), true],
  ['filters OR: none', [...onJson({ a: ['x'] }), ...onJson({ b: ['y'] })], json({ c: 'z' }), false],
  ['no filters', [], json({ anything: 1 }), true],
];

describe('passesFilters', () => {
  it.each(cases)('%s', (_name, filters, subject, passes) => {
    expect(passesFilters(filters, subject)).toBe(passes);
  });

  it('filters on the event types of each consumer as core/topology.ts declares', () => {
    const spec = consumers[0];
    if (!spec) throw new Error('no consumer in the topology');
    const handled =
      (spec.mapping.filters[0]?.pattern.value as { eventType: string[] } | undefined)?.eventType ?? [];
    expect(handled.length).toBeGreaterThan(0);
    expect(passesFilters(spec.mapping.filters, json({ eventType: handled[0] }))).toBe(true);
    expect(passesFilters(spec.mapping.filters, json({ eventType: 'not_an_event_type' }))).toBe(false);
  });
});

describe('kafkaValue', () => {
  it('reads a value as Lambda does: UTF-8, then JSON or a plain string (KAFKA)', () => {
    expect(kafkaValue(Buffer.from('{"device_ID":"AB1234"}'))).toEqual({ json: { device_ID: 'AB1234' } });
    expect(kafkaValue(Buffer.from(' [1, 2]'))).toEqual({ json: [1, 2] });
    expect(kafkaValue(Buffer.from('error'))).toEqual({ text: 'error' });
    expect(kafkaValue(Buffer.from('{not json'))).toEqual({ text: '{not json' });
    expect(kafkaValue(Buffer.from('42'))).toEqual({ text: '42' });
    expect(kafkaValue(Buffer.from(''))).toEqual({ text: '' });
    expect(kafkaValue(Buffer.from([0xff, 0xfe, 0x00]))).toBeUndefined();
    expect(kafkaValue(null)).toBeUndefined();
  });

  it('feeds the plain-string filter of the Kafka page', () => {
    const filters = [{ pattern: { value: [{ 'anything-but': ['error'] }] } }];
    expect(passesFilters(filters, kafkaValue(Buffer.from('error')))).toBe(false);
    expect(passesFilters(filters, kafkaValue(Buffer.from('ok')))).toBe(true);
  });
});

type Invalid = readonly [name: string, filters: unknown, message: RegExp];

const invalid: Invalid[] = [
  [
    'more than 5 filters',
    Array.from({ length: MAX_FILTERS + 1 }, () => ({ pattern: { value: { a: [1] } } })),
    /6 filters: .*at most 5/,
  ],
  [
    'a pattern over 4096 characters',
    [{ pattern: { value: { a: ['x'.repeat(4100)] } } }],
    /filters\[0\] .*at most 4096/,
  ],
  [
    'a key other than value',
    [{ pattern: { key: ['k'] } }],
    /filters\[0\] at key: .*only support filtering on the `value` key/,
  ],
  ['value neither list nor object', [{ pattern: { value: 'x' } }], /filters\[0\] at value: must be a list/],
  [
    'a field that is not a list',
    [{ pattern: { value: { a: 'x' } } }],
    /at value\.a: must be a list of rules/,
  ],
  ['an empty rule list', [{ pattern: { value: { a: [] } } }], /at value\.a: an empty list/],
  ['a nested list', [{ pattern: { value: { a: [['x']] } } }], /at value\.a\[0\]: a rule is/],
  [
    'an unknown operator',
    [{ pattern: { value: { a: [{ contains: 'x' }] } } }],
    /at value\.a\[0\] "contains": unknown operator "contains"/,
  ],
  [
    'cidr',
    [{ pattern: { value: { ip: [{ cidr: '10.0.0.0/24' }] } } }],
    /"cidr": IP address matching is not supported/,
  ],
  [
    'two operators in one rule',
    [{ pattern: { value: { a: [{ prefix: 'a', suffix: 'b' }] } } }],
    /exactly one operator, got prefix, suffix/,
  ],
  [
    'exists with a string',
    [{ pattern: { value: { a: [{ exists: 'yes' }] } } }],
    /at value\.a\[0\]: "exists" takes true or false/,
  ],
  ['prefix with a number', [{ pattern: { value: { a: [{ prefix: 1 }] } } }], /"prefix": takes a string/],
  [
    'prefix with another object',
    [{ pattern: { value: { a: [{ prefix: { wildcard: 'x' } }] } } }],
    /"prefix": takes a string or \{"equals-ignore-case"/,
  ],
  [
    'numeric with an odd list',
    [{ pattern: { value: { price: [{ numeric: ['>', 0, '<='] }] } } }],
    /filters\[0\] at value\.price\[0\] "numeric": takes/,
  ],
  [
    'numeric with an unknown comparison',
    [{ pattern: { value: { price: [{ numeric: ['!=', 1] }] } } }],
    /unknown comparison "!="/,
  ],
  [
    'numeric with a string bound',
    [{ pattern: { value: { price: [{ numeric: ['>', '1'] }] } } }],
    /"1" after ">" is not a number/,
  ],
  [
    'numeric range upside down',
    [{ pattern: { value: { price: [{ numeric: ['<', 5, '>', 0] }] } } }],
    /a range starts with > or >=/,
  ],
  ['numeric empty range', [{ pattern: { value: { price: [{ numeric: ['>', 5, '<', 5] }] } } }], /is empty/],
  [
    'wildcard with **',
    [{ pattern: { value: { f: [{ wildcard: 'dir/**.png' }] } } }],
    /"wildcard": consecutive wildcard characters at position 4/,
  ],
  [
    'wildcard with a bad escape',
    [{ pattern: { value: { f: [{ wildcard: 'a\\b' }] } } }],
    /"wildcard": invalid escape at position 1/,
  ],
  [
    'anything-but with a mixed list',
    [{ pattern: { value: { a: [{ 'anything-but': ['a', 1] }] } } }],
    /"anything-but": takes a non-empty list of only strings or only numbers/,
  ],
  [
    'anything-but with an empty list',
    [{ pattern: { value: { a: [{ 'anything-but': [] }] } } }],
    /"anything-but": takes a non-empty list/,
  ],
  [
    'anything-but with a boolean',
    [{ pattern: { value: { a: [{ 'anything-but': true }] } } }],
    /"anything-but": takes a string, a number/,
  ],
  [
    'anything-but with numeric',
    [{ pattern: { value: { a: [{ 'anything-but': { numeric: ['>', 1] } }] } } }],
    /"anything-but": takes \{"prefix"/,
  ],
  [
    'anything-but prefix list',
    [{ pattern: { value: { a: [{ 'anything-but': { prefix: ['a'] } }] } } }],
    /"anything-but"\.prefix: takes a string/,
  ],
  [
    'anything-but wildcard with **',
    [{ pattern: { value: { a: [{ 'anything-but': { wildcard: ['*/lib/**'] } }] } } }],
    /consecutive wildcard/,
  ],
  [
    '$or with one branch',
    [{ pattern: { value: { $or: [{ a: [1] }] } } }],
    /at value\.\$or: "\$or" takes a list of at least two objects/,
  ],
  [
    'an invalid rule inside $or',
    [{ pattern: { value: { $or: [{ a: [1] }, { b: [{ numeric: ['>'] }] }] } } }],
    /at value\.\$or\[1\]\.b\[0\] "numeric"/,
  ],
  [
    'an error in the second filter',
    [{ pattern: { value: { a: [1] } } }, { pattern: { value: { b: [{ suffix: null }] } } }],
    /filters\[1\] at value\.b\[0\] "suffix"/,
  ],
];

describe('checkFilters', () => {
  it.each(invalid)('refuses %s', (_name, filters, message) => {
    const check = () => checkFilters(filters as FilterSpec[]);
    expect(check).toThrow(FilterPatternError);
    expect(check).toThrow(message);
  });

  it('accepts every pattern of the table above and the topology', () => {
    for (const [name, filters] of cases) expect(() => checkFilters(filters), name).not.toThrow();
    for (const spec of consumers) expect(() => checkFilters(spec.mapping.filters), spec.name).not.toThrow();
  });

  it('is called when a local event-source mapping is created', () => {
    const spec = consumers[0];
    if (!spec) throw new Error('no consumer in the topology');
    const bad = {
      ...spec,
      mapping: { ...spec.mapping, filters: [{ pattern: { value: { a: [{ wildcard: '**' }] } } }] },
    };
    // The constructor checks the options; nothing connects to Kafka before start().
    const options = (s: typeof spec): ConsumerMappingOptions => ({
      spec: s,
      handler: async () => undefined,
      kafka: new Kafka({ brokers: ['127.0.0.1:9'] }),
      writer: { send: async () => [] },
      schemaOf: async () => undefined,
      bootstrapServers: '127.0.0.1:9',
    });
    expect(() => consumerMapping(options(bad))).toThrow(FilterPatternError);
    expect(() => consumerMapping(options(spec))).not.toThrow();
  });
});
