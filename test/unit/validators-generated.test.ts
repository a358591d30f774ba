import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { describe, expect, it } from 'vitest';
import { contractCases } from '../../schemas/examples';
import { formats, isDateTime } from '../../schemas/formats';
import { contractNames, eventTypes, validators } from '../../schemas/generated/validators';
import { contractSchemas, EVENT_TYPES } from '../../schemas/index';
import { ajvMessage, checkContract, MAX_ISSUES } from '../../schemas/validator';
import {
  contractsAjv,
  generateValidators,
  VALIDATORS_FILE,
  VALIDATORS_TYPES_FILE,
} from '../../scripts/contracts';

describe('precompiled contract validators (schemas/generated)', () => {
  it('are the ones in the repository (run npm run contracts after changing a contract)', async () => {
    const { code, types } = generateValidators();
    const stale = 'schemas/generated is stale: run npm run contracts';
    expect(await readFile(VALIDATORS_FILE, 'utf8'), stale).toBe(code);
    expect(await readFile(VALIDATORS_TYPES_FILE, 'utf8'), stale).toBe(types);
  });

  it('are generated the same way twice', () => {
    expect(generateValidators()).toEqual(generateValidators());
  });

  it('cover every contract and event type of the catalogue', () => {
    expect(contractNames).toEqual(Object.keys(contractSchemas));
    expect(eventTypes).toEqual(EVENT_TYPES);
    for (const name of contractNames) expect(typeof validators[name], name).toBe('function');
  });

  it('judge every case exactly as the same schema compiled at run time, errors included', () => {
    // A separate instance with the generator's options, compiling at run time as Ajv normally does.
    const ajv = contractsAjv();
    for (const { name, examples, counterExamples } of contractCases()) {
      const compiled = ajv.compile(contractSchemas[name]);
      const precompiled = validators[name];
      for (const value of [...examples, ...counterExamples.map((c) => c.value), null, 42, 'text', [], {}]) {
        expect(precompiled(value), name).toBe(compiled(value));
        // The generated code leaves out schemaPath (scripts/contracts.ts, compactErrors); nothing else.
        const withoutSchemaPath = compiled.errors?.map(({ schemaPath: _, ...rest }) => rest) ?? null;
        expect(precompiled.errors ?? null, name).toEqual(withoutSchemaPath);
      }
    }
  });

  it('carry no message strings or schema paths (rebuilt from keyword and parameters instead)', async () => {
    const code = await readFile(VALIDATORS_FILE, 'utf8');
    expect(code).not.toMatch(/schemaPath:|message:"/);
    // Nor read values out of the contract schemas (which would keep the schema objects in the bundles).
    expect(code).not.toMatch(/\bschema\d+[.[]/);
  });

  it('report the issues Ajv with its messages reports, message for message', () => {
    // Ajv as it compiles at run time with its default messages, mapped to issues as schemas/validator.ts
    // did when the messages were in the generated code.
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv, ['date-time', 'email', 'ipv4', 'ipv6']);
    const issuesOf = (errors: ErrorObject[]) =>
      errors.slice(0, MAX_ISSUES - 1).map((e) => ({
        path: e.keyword === 'required' ? `${e.instancePath}/${e.params.missingProperty}` : e.instancePath,
        message:
          e.keyword === 'additionalProperties'
            ? `must not have property "${e.params.additionalProperty}"`
            : e.keyword === 'const' || e.keyword === 'enum'
              ? `${e.message}: ${JSON.stringify(e.params.allowedValue ?? e.params.allowedValues)}`
              : e.message,
        keyword: e.keyword,
      }));
    let checked = 0;
    for (const { name, examples, counterExamples } of contractCases()) {
      const compiled = ajv.compile(contractSchemas[name]);
      for (const value of [...examples, ...counterExamples.map((c) => c.value), null, 42, 'text', [], {}]) {
        const expected = compiled(value) ? [] : issuesOf(compiled.errors ?? []);
        expect(checkContract(name, value).slice(0, MAX_ISSUES - 1), name).toEqual(expected);
        checked += expected.length;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("write Ajv's own message for every keyword the validators report", async () => {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv, ['date-time', 'email', 'ipv4', 'ipv6']);
    // A schema and a value failing it, for each keyword.
    const failing: Record<string, [object, unknown]> = {
      required: [{ type: 'object', required: ['a'] }, {}],
      type: [{ type: ['string', 'null'] }, 1],
      additionalProperties: [{ type: 'object', additionalProperties: false }, { b: 1 }],
      const: [{ const: 'x' }, 'y'],
      enum: [{ enum: ['x', 'z'] }, 'y'],
      pattern: [{ type: 'string', pattern: '^a+$' }, 'b'],
      format: [{ type: 'string', format: 'date-time' }, 'soon'],
      maxLength: [{ type: 'string', maxLength: 1 }, 'ab'],
      minLength: [{ type: 'string', minLength: 3 }, 'ab'],
      maxItems: [{ type: 'array', maxItems: 1 }, [1, 2]],
      minItems: [{ type: 'array', minItems: 3 }, [1]],
      maxProperties: [
        { type: 'object', maxProperties: 1 },
        { a: 1, b: 2 },
      ],
      minProperties: [{ type: 'object', minProperties: 2 }, { a: 1 }],
      maximum: [{ type: 'number', maximum: 1 }, 2],
      minimum: [{ type: 'number', minimum: 1 }, 0],
      exclusiveMaximum: [{ type: 'number', exclusiveMaximum: 1 }, 1],
      exclusiveMinimum: [{ type: 'number', exclusiveMinimum: 1 }, 1],
      multipleOf: [{ type: 'number', multipleOf: 2 }, 3],
      uniqueItems: [{ type: 'array', uniqueItems: true }, [1, 1]],
      anyOf: [{ anyOf: [{ type: 'string' }, { type: 'number' }] }, true],
      oneOf: [{ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 1],
    };
    const reported = new Set(
      [...(await readFile(VALIDATORS_FILE, 'utf8')).matchAll(/keyword:"(\w+)"/g)].map((m) => m[1] as string),
    );
    for (const keyword of reported)
      expect(Object.keys(failing), 'a case for this keyword').toContain(keyword);
    for (const [keyword, [schema, value]] of Object.entries(failing)) {
      const validate = ajv.compile(schema);
      expect(validate(value), keyword).toBe(false);
      const errors = (validate.errors ?? []).filter((e) => e.keyword === keyword);
      expect(errors.length, keyword).toBeGreaterThan(0);
      for (const e of errors) expect(ajvMessage(e), keyword).toBe(e.message);
    }
  });

  it("check date-time as ajv-formats' full date-time does", () => {
    const ajvDateTime = fullFormats['date-time'] as { validate: (s: string) => boolean };
    const cases = [
      '2026-11-30T19:04:26Z',
      '2026-11-30T19:04:26.123456Z',
      '2026-11-30t19:04:26z',
      '2026-11-30 19:04:26+01:00',
      '2026-11-30T19:04:26+0100',
      '2026-11-30T19:04:26',
      '2026-11-30T19:04:26+24:00',
      '2026-11-30T19:04:26-05:60',
      '2024-02-29T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2016-12-31T23:59:60Z',
      '2016-12-31T18:59:60-05:00',
      '2016-12-31T23:58:60Z',
      '2026-11-30T24:00:00Z',
      '2026-11-30T19:60:00Z',
      '2026-11-30',
      '2026-11-30TT19:04:26Z',
      '',
      'soon',
      '２026-11-30T19:04:26Z',
    ];
    for (const value of cases) expect(isDateTime(value), value).toBe(ajvDateTime.validate(value));
    expect(Object.keys(formats)).toEqual(['date-time']);
  });
});
