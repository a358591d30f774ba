import { describe, expect, it } from 'vitest';
import { type ContractName, contractSchemas } from '../../schemas/index';
import { contractOfLocalSchemaVersionId, localSchemaVersionId } from '../../schemas/registry';

const names = Object.keys(contractSchemas) as ContractName[];

describe('local schema version ids', () => {
  it('are distinct version-5 UUIDs, one per contract', () => {
    const ids = names.map(localSchemaVersionId);
    expect(new Set(ids).size).toBe(names.length);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('map back to their contract, in either case', () => {
    for (const name of names) {
      expect(contractOfLocalSchemaVersionId(localSchemaVersionId(name))).toBe(name);
      expect(contractOfLocalSchemaVersionId(localSchemaVersionId(name).toUpperCase())).toBe(name);
    }
    expect(contractOfLocalSchemaVersionId('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('are the same in every process (derived from name and definition only)', async () => {
    const { execFileSync } = await import('node:child_process');
    const script =
      "import('./schemas/registry.ts').then(m => process.stdout.write(m.localSchemaVersionId('user_registered')))";
    const other = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(other).toBe(localSchemaVersionId('user_registered'));
  });
});
