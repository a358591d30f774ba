/**
 * Schema version ids for running without AWS Glue (the local runtime and the tests). Each id is a
 * name-based UUID (RFC 4122 version 5) of the contract's name and exact definition text, so it is
 * stable across processes and machines and changes whenever the definition changes, the way Glue
 * gives a changed definition a new schema version id. In AWS the ids are the ones Glue assigned
 * (the stack passes them to the functions); this module never pretends to be Glue.
 */
import { createHash } from 'node:crypto';
import { type ContractName, contractSchemas, schemaDefinition } from './index';

/** Namespace of the version-5 UUIDs below (itself a random UUID, fixed forever). */
const NAMESPACE = Buffer.from('6c1f3f0e8b2d4a4e9d5b7a0c2e4f6a81', 'hex');

function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let byName: Map<ContractName, string> | undefined;
let byId: Map<string, ContractName> | undefined;

function index(): { byName: Map<ContractName, string>; byId: Map<string, ContractName> } {
  if (!byName || !byId) {
    byName = new Map();
    byId = new Map();
    for (const name of Object.keys(contractSchemas) as ContractName[]) {
      const id = uuidV5(`${name}\n${schemaDefinition(name)}`);
      byName.set(name, id);
      byId.set(id, name);
    }
  }
  return { byName, byId };
}

/** The local schema version id of a contract's current definition. */
export function localSchemaVersionId(name: ContractName): string {
  return index().byName.get(name) as string;
}

/** The contract a local schema version id belongs to, or undefined for an unknown id. */
export function contractOfLocalSchemaVersionId(id: string): ContractName | undefined {
  return index().byId.get(id.toLowerCase());
}
