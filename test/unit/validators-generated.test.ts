import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { contractCases } from '../../schemas/examples';
import { contractNames, eventTypes, validators } from '../../schemas/generated/validators';
import { contractSchemas, EVENT_TYPES } from '../../schemas/index';
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
        expect(precompiled.errors ?? null, name).toEqual(compiled.errors ?? null);
      }
    }
  });
});
