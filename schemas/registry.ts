/**
 * Schema version ids for running without AWS Glue (the local runtime and the tests). Each id is a
 * name-based UUID (RFC 4122 version 5) of the contract's name and exact definition text, so it is
 * stable across processes and machines and changes whenever the definition changes, the way Glue
 * gives a changed definition a new schema version id. In AWS the ids are the ones Glue assigned
 * (the stack passes them to the functions); this module never pretends to be Glue.
 */
import { uuidV5 } from '../lambdas/shared/uuid';
import { type ContractName, contractSchemas, schemaDefinition } from './index';

/** Namespace of the version-5 UUIDs below (itself a random UUID, fixed forever). */
const NAMESPACE = '6c1f3f0e-8b2d-4a4e-9d5b-7a0c2e4f6a81';

let byName: Map<ContractName, string> | undefined;
let byId: Map<string, ContractName> | undefined;

function index(): { byName: Map<ContractName, string>; byId: Map<string, ContractName> } {
  if (!byName || !byId) {
    byName = new Map();
    byId = new Map();
    for (const name of Object.keys(contractSchemas) as ContractName[]) {
      const id = uuidV5(NAMESPACE, `${name}\n${schemaDefinition(name)}`);
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
