/**
 * Contract changes Glue would refuse fail `npm test`, before any deploy: every contract is checked
 * against its published (deployed) definition in schemas/published/ with the BACKWARD rules of
 * schemas/compatibility.ts, and the checker itself is tested on edits of real contracts, both ways.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  backwardIncompatibilities,
  type Difference,
  differences,
  type JsonSchema,
} from '../../schemas/compatibility';
import { definitionHistory } from '../../schemas/history';
import { type ContractName, contractSchemas, contractVersions, schemaDefinition } from '../../schemas/index';
import { checkPublished, PUBLISHED_DIR, publishedVersions } from '../../schemas/published';
import { publishContracts } from '../../scripts/contracts';

const names = Object.keys(contractSchemas) as ContractName[];
// biome-ignore lint/suspicious/noExplicitAny: test edits reach into plain JSON.
type Json = any;
const plain = (name: ContractName): Json => JSON.parse(schemaDefinition(name));

/** `edit` applied to a copy of contract `name`, and the differences from the original. */
function edited(name: ContractName, edit: (schema: Json) => void): Difference[] {
  const before = plain(name);
  const after = structuredClone(before);
  edit(after);
  return differences(before, after);
}

const summary = (ds: readonly Difference[]) =>
  ds.map((d) => ({ rule: d.rule, field: d.field, ok: d.compatible }));

describe('published contracts', () => {
  it.each(names)('%s: the current definition deploys over the published one (BACKWARD)', (name) => {
    const problems = checkPublished({
      name,
      current: plain(name),
      version: contractVersions[name],
      published: publishedVersions(name),
    });
    // The problems as the message, so that a failure shows the field and the rule in full.
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('has every published version of every contract, and a published definition for each version but the newest', () => {
    for (const name of names) {
      const published = publishedVersions(name);
      expect(published.size, `${name} has no published version`).toBeGreaterThan(0);
      expect(contractVersions[name] - published.size, name).toBeLessThanOrEqual(1);
    }
  });

  it('are the definitions the stack registers, oldest first', () => {
    for (const name of names) {
      const history = definitionHistory(name);
      const published = publishedVersions(name);
      history.slice(0, -1).forEach((definition, i) => {
        expect(definition).toBe(JSON.stringify(published.get(i + 1)));
      });
      expect(history.at(-1)).toBe(schemaDefinition(name));
    }
  });
});

describe('BACKWARD check: changes Glue refuses', () => {
  const cases: [string, ContractName, (s: Json) => void, { rule: string; field: string }][] = [
    [
      'a required field added to a closed object',
      'user_registered',
      (s) => {
        s.properties.data.properties.age = { type: 'integer' };
        s.properties.data.required.push('age');
      },
      { rule: 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', field: '/data/age' },
    ],
    [
      'an optional field made required',
      'user_registered',
      (s) => s.properties.data.required.push('locale'),
      { rule: 'REQUIRED_ATTRIBUTE_ADDED', field: '/data/locale' },
    ],
    [
      'a field removed from a closed object',
      'user_registered',
      (s) => delete s.properties.data.properties.locale,
      { rule: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', field: '/data/locale' },
    ],
    [
      'a type changed',
      'user_registered',
      (s) => {
        s.properties.schemaVersion = { type: 'string' };
      },
      { rule: 'TYPE_CHANGED', field: '/schemaVersion' },
    ],
    [
      'an enum value removed',
      'user_deleted',
      (s) => {
        s.properties.data.properties.reason.enum = ['user_request', 'admin', 'inactivity'];
      },
      { rule: 'ENUM_ARRAY_NARROWED', field: '/data/reason' },
    ],
    [
      'an event type renamed (const)',
      'user_deleted',
      (s) => {
        s.properties.eventType.const = 'user_removed';
      },
      { rule: 'ENUM_ARRAY_CHANGED', field: '/eventType' },
    ],
    [
      'a maximum length decreased',
      'user_registered',
      (s) => {
        s.properties.source.maxLength = 128;
      },
      { rule: 'MAX_LENGTH_DECREASED', field: '/source' },
    ],
    [
      'a pattern changed',
      'user_registered',
      (s) => {
        s.properties.data.properties.userId.pattern = '^[a-z0-9]+$';
      },
      { rule: 'PATTERN_CHANGED', field: '/data/userId' },
    ],
    [
      'a minimum increased',
      'user_registered',
      (s) => {
        s.properties.schemaVersion.minimum = 2;
      },
      { rule: 'MINIMUM_INCREASED', field: '/schemaVersion' },
    ],
    [
      'a format added',
      'user_registered',
      (s) => {
        s.properties.source.format = 'email';
      },
      { rule: 'FORMAT_ADDED', field: '/source' },
    ],
    [
      'an open object closed',
      'dead_letter',
      (s) => {
        s.properties.requestContext.additionalProperties = false;
      },
      { rule: 'ADDITIONAL_PROPERTIES_REMOVED', field: '/requestContext/*' },
    ],
    [
      'a property added to an open object',
      'dead_letter',
      (s) => {
        s.properties.requestContext.properties.region = { type: 'string' };
      },
      { rule: 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', field: '/requestContext/region' },
    ],
    [
      'a keyword the checker does not know',
      'user_registered',
      (s) => {
        s.properties.data.properties.name.not = { const: 'root' };
      },
      { rule: 'UNSUPPORTED_KEYWORD_CHANGED', field: '/data/name' },
    ],
  ];

  it.each(cases)('%s (%s)', (_, name, edit, expected) => {
    const found = edited(name, edit).filter((d) => !d.compatible);
    expect(summary(found)).toContainEqual({ ...expected, ok: false });
  });

  it('a union branch removed: SUM_TYPE_NARROWED at the union', () => {
    const found = edited('dead_letter', (s) => {
      const union = findUnion(s.properties.payload);
      union.anyOf = union.anyOf.filter((b: Json) => b.type !== 'null');
    }).filter((d) => !d.compatible);
    expect(found.map((d) => d.rule)).toContain('SUM_TYPE_NARROWED');
    expect(found.every((d) => d.field.startsWith('/payload/'))).toBe(true);
  });

  it('a number narrowed to integer: TYPE_NARROWED', () => {
    const before = { type: 'object', properties: { amount: { type: 'number' } } };
    const after = { type: 'object', properties: { amount: { type: 'integer' } } };
    expect(summary(backwardIncompatibilities(before, after))).toEqual([
      { rule: 'TYPE_NARROWED', field: '/amount', ok: false },
    ]);
  });
});

describe('BACKWARD check: changes Glue accepts', () => {
  const cases: [string, ContractName, (s: Json) => void, string][] = [
    [
      'an optional field added to a closed object',
      'user_registered',
      (s) => {
        s.properties.data.properties.nickname = { type: 'string', maxLength: 50 };
      },
      'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
    ],
    [
      'an enum widened',
      'user_deleted',
      (s) => s.properties.data.properties.reason.enum.push('merged'),
      'ENUM_ARRAY_EXTENDED',
    ],
    [
      'a required field made optional',
      'user_registered',
      (s) => {
        s.properties.data.required = s.properties.data.required.filter((k: string) => k !== 'name');
      },
      'REQUIRED_ATTRIBUTE_REMOVED',
    ],
    [
      'a maximum length increased',
      'user_registered',
      (s) => {
        s.properties.source.maxLength = 512;
      },
      'MAX_LENGTH_INCREASED',
    ],
    [
      'a pattern removed',
      'user_registered',
      (s) => delete s.properties.data.properties.userId.pattern,
      'PATTERN_REMOVED',
    ],
    [
      'a maximum removed',
      'user_registered',
      (s) => delete s.properties.schemaVersion.maximum,
      'MAXIMUM_REMOVED',
    ],
    [
      'a closed object opened',
      'user_registered',
      (s) => {
        s.properties.data.additionalProperties = true;
      },
      'ADDITIONAL_PROPERTIES_ADDED',
    ],
    [
      'a description changed',
      'user_registered',
      (s) => {
        s.description = 'Someone signed up.';
      },
      'DESCRIPTION_CHANGED',
    ],
    [
      'a union branch added',
      'user_registered',
      (s) => {
        s.properties.data.properties.locale = {
          anyOf: [s.properties.data.properties.locale, { type: 'null' }],
        };
      },
      'SUM_TYPE_EXTENDED',
    ],
  ];

  it.each(cases)('%s (%s)', (_, name, edit, rule) => {
    const found = edited(name, edit);
    expect(found.filter((d) => !d.compatible)).toEqual([]);
    expect(found.map((d) => d.rule)).toContain(rule);
  });

  it('an integer widened to number: TYPE_EXTENDED', () => {
    const before = { type: 'object', properties: { amount: { type: 'integer' } } };
    const after = { type: 'object', properties: { amount: { type: 'number' } } };
    expect(summary(differences(before, after))).toEqual([
      { rule: 'TYPE_EXTENDED', field: '/amount', ok: true },
    ]);
  });

  it('follows local $refs on both sides', () => {
    const schema = (max: number): JsonSchema => ({
      definitions: { id: { type: 'string', maxLength: max } },
      type: 'object',
      properties: { a: { $ref: '#/definitions/id' } },
    });
    expect(summary(backwardIncompatibilities(schema(10), schema(20)))).toEqual([]);
    expect(summary(backwardIncompatibilities(schema(20), schema(10)))).toEqual([
      { rule: 'MAX_LENGTH_DECREASED', field: '/a', ok: false },
    ]);
  });
});

describe('version gate (checkPublished)', () => {
  const name: ContractName = 'user_registered';
  const v1 = plain(name);
  const published = new Map<number, JsonSchema>([[1, v1]]);
  const withAge = (required: boolean) => {
    const s = structuredClone(v1);
    s.properties.data.properties.age = { type: 'integer' };
    if (required) s.properties.data.required.push('age');
    return s;
  };

  it('passes an unchanged contract and a compatible change with its version bumped', () => {
    expect(checkPublished({ name, current: v1, version: 1, published })).toEqual([]);
    expect(checkPublished({ name, current: withAge(false), version: 2, published })).toEqual([]);
  });

  it('fails a change without a version bump, naming the bump', () => {
    const [problem] = checkPublished({ name, current: withAge(false), version: 1, published });
    expect(problem).toMatch(
      /user_registered: its schema differs from its published version 1 .*bump contractVersions\.user_registered to 2/,
    );
  });

  it('fails an incompatible change, naming the contract, the field and the rule', () => {
    expect(checkPublished({ name, current: withAge(true), version: 2, published })).toEqual([
      expect.stringMatching(
        /^user_registered v2 is not BACKWARD compatible with published v1 .*\/data\/age: REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #\/properties\/data\/properties\/age/,
      ),
    ]);
  });

  it('fails a version that skips an unpublished one, or goes back', () => {
    expect(checkPublished({ name, current: withAge(false), version: 3, published })).toEqual([
      expect.stringContaining('publish each version after deploying it'),
    ]);
    const two = new Map([...published, [2, withAge(false)]]);
    expect(checkPublished({ name, current: v1, version: 1, published: two })).toEqual([
      expect.stringContaining('yet version 2 is published'),
    ]);
    expect(checkPublished({ name, current: v1, version: 2, published })).toEqual([
      expect.stringContaining('nothing to bump'),
    ]);
  });
});

describe('npm run contracts -- --publish', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'published-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every unpublished contract version, as the committed snapshot has it, and then nothing', async () => {
    // Deployed before: every version below each contract's current one, as committed.
    for (const file of await readdir(PUBLISHED_DIR)) {
      const [, name, version] = /^(.+)\.v(\d+)\.json$/.exec(file) ?? [];
      if (Number(version) < contractVersions[name as ContractName])
        await writeFile(join(dir, file), await readFile(join(PUBLISHED_DIR, file), 'utf8'));
    }
    const written = await publishContracts(dir);
    expect(written).toHaveLength(names.length);
    for (const file of await readdir(dir)) {
      expect(await readFile(join(dir, file), 'utf8')).toBe(await readFile(join(PUBLISHED_DIR, file), 'utf8'));
    }
    expect(await publishContracts(dir)).toEqual([]);
  });

  it('refuses, writing nothing, when a published version differs from the current contract', async () => {
    const changed = plain('user_login');
    changed.description = 'changed after publishing';
    await writeFile(join(dir, 'user_login.v1.json'), JSON.stringify(changed));
    await expect(publishContracts(dir)).rejects.toThrow(
      /nothing published:\n- user_login: its schema differs/,
    );
    expect(await readdir(dir)).toEqual(['user_login.v1.json']);
  });
});

function findUnion(schema: Json): Json {
  const stack = [schema];
  while (stack.length > 0) {
    const s = stack.pop();
    if (s && typeof s === 'object') {
      if (Array.isArray(s.anyOf) && s.anyOf.some((b: Json) => b.type === 'null')) return s;
      stack.push(...Object.values(s));
    }
  }
  throw new Error('no union with null');
}
