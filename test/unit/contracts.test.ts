import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { JSON_SCHEMA_DRAFT } from '../../schemas/common';
import { contractCases, eventExamples } from '../../schemas/examples';
import {
  contractSchemas,
  contractVersions,
  EVENT_TYPES,
  type EventOf,
  eventSchemas,
  schemaDefinition,
} from '../../schemas/index';
import {
  ContractViolation,
  checkContract,
  MAX_ISSUES,
  validateContract,
  validateEvent,
} from '../../schemas/validator';
import { thrownBy } from '../support/errors';

describe.each(contractCases())('contract $name', ({ name, examples, counterExamples }) => {
  it('is a self-contained draft-07 JSON Schema, as Glue Schema Registry accepts', () => {
    const definition = JSON.parse(schemaDefinition(name));
    expect(definition.$schema).toBe(JSON_SCHEMA_DRAFT);
    expect(definition.title).toBe(name);
    // Glue registers each definition on its own: no reference may point outside it.
    expect(schemaDefinition(name)).not.toContain('"$ref"');
  });

  it('judges every case the same from the definition text Glue stores as from the shared validator', () => {
    // A fresh, independent compile of the registered text (not the shared validator under test).
    const fresh = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats(fresh, ['date-time', 'email', 'ipv4', 'ipv6']);
    const validate = fresh.compile(JSON.parse(schemaDefinition(name)));
    for (const value of examples) expect(validate(value)).toBe(true);
    for (const { value } of counterExamples) expect(validate(value)).toBe(false);
    expect(contractSchemas[name]).toBeDefined();
  });

  it.each(examples.map((value, i) => ({ i, value })))('accepts example $i', ({ value }) => {
    expect(checkContract(name, value)).toEqual([]);
  });

  it.each(counterExamples)('rejects: $why', ({ value, path }) => {
    const issues = checkContract(name, value);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.map((i) => i.path)).toContain(path);
    for (const issue of issues) expect(issue.message).not.toBe('');
  });
});

describe('the catalogue', () => {
  it('has a contract for every event the issue names, and the dead letter', () => {
    const required = [
      'user_registered',
      'user_updated',
      'user_deleted',
      'user_login',
      'order_created',
      'order_updated',
      'order_cancelled',
      'order_paid',
      'payment_processed',
      'payment_failed',
      'payment_refunded',
      'welcome_email_sent',
      'profile_updated',
      'user_cleanup',
    ];
    for (const name of required) expect(EVENT_TYPES).toContain(name);
    expect(Object.keys(contractSchemas)).toContain('dead_letter');
  });

  it('keys every schema by its own eventType', () => {
    for (const [name, schema] of Object.entries(eventSchemas)) {
      expect(schema.properties.eventType.const).toBe(name);
    }
  });

  it('gives every contract a version that examples carry', () => {
    for (const type of EVENT_TYPES) {
      for (const example of eventExamples[type]) expect(example.schemaVersion).toBe(contractVersions[type]);
    }
  });
});

describe('validateEvent', () => {
  const valid = eventExamples.order_created[0] as EventOf<'order_created'>;

  it('returns the event typed by its eventType', () => {
    const event = validateEvent(structuredClone(valid));
    expect(event.eventType).toBe('order_created');
    if (event.eventType === 'order_created') expect(event.data.items).toHaveLength(2);
  });

  it.each([
    {
      why: 'an unknown event type',
      value: { ...valid, eventType: 'order_exploded' },
      message: 'unknown event type "order_exploded"',
    },
    { why: 'no event type', value: { data: {} }, message: "must have required property 'eventType'" },
    {
      why: 'an inherited property name as event type',
      value: { ...valid, eventType: 'toString' },
      message: 'unknown event type "toString"',
    },
  ])('rejects $why at /eventType', ({ value, message }) => {
    const error = thrownBy(ContractViolation, () => validateEvent(value));
    expect(error.issues).toEqual([expect.objectContaining({ path: '/eventType', message })]);
  });

  it.each([null, 42, 'text', [1, 2]])('rejects the non-object %j at the root', (value) => {
    const error = thrownBy(ContractViolation, () => validateEvent(value));
    expect(error.issues[0]).toMatchObject({ path: '', message: 'must be an object' });
  });

  it('lists every problem of one event, each with its path', () => {
    const error = thrownBy(ContractViolation, () =>
      validateContract('order_created', {
        ...valid,
        eventId: 'x',
        data: { ...valid.data, currency: 'eur', totalAmount: -1 },
      }),
    );
    expect(error.issues.map((i) => i.path).sort()).toEqual([
      '/data/currency',
      '/data/totalAmount',
      '/eventId',
    ]);
    expect(error.message).toContain('order_created:');
  });

  it(`caps the issues of a hostile value at ${MAX_ISSUES}`, () => {
    const items = Array.from({ length: 400 }, () => ({ sku: '', quantity: -1, unitPrice: -1 }));
    const error = thrownBy(ContractViolation, () =>
      validateContract('order_created', { ...valid, data: { ...valid.data, items } }),
    );
    expect(error.issues).toHaveLength(MAX_ISSUES);
    expect(error.issues.at(-1)).toMatchObject({ keyword: 'truncated' });
  });

  it('does not let a __proto__ key pollute objects', () => {
    const hostile = JSON.parse(
      JSON.stringify(valid).replace('"data":{', '"data":{"__proto__":{"polluted":true},'),
    );
    expect(() => validateEvent(hostile)).toThrow(ContractViolation);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('contract history', () => {
  it('has, for every contract, as many definitions as its version number, the current one last', async () => {
    const { definitionHistory } = await import('../../schemas/history');
    for (const name of Object.keys(contractSchemas) as (keyof typeof contractSchemas)[]) {
      const history = definitionHistory(name);
      expect(history, name).toHaveLength(contractVersions[name]);
      expect(history.at(-1)).toBe(schemaDefinition(name));
      expect(new Set(history).size, `${name} has a repeated definition`).toBe(history.length);
    }
  });
});
