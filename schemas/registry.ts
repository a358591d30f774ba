/**
 * Schema version ids for running without AWS Glue (the local runtime and the tests). Each id is a
 * name-based UUID (RFC 4122 version 5) of the contract's name and exact definition text, so it is
 * stable across processes and machines and changes whenever the definition changes, the way Glue
 * gives a changed definition a new schema version id. In AWS the ids are the ones Glue assigned
 * (the stack passes them to the functions); this module never pretends to be Glue.
 *
 * The ids are computed by `npm run contracts` (scripts/contracts.ts, `localSchemaVersionIdOf`) and
 * read here from schemas/generated/validators.js, so that the functions need not load the schemas.
 */
import { localSchemaVersionIds } from './generated/validators';
import type { ContractName } from './index';

const byId = new Map(
  Object.entries(localSchemaVersionIds).map(([name, id]): [string, ContractName] => [
    id,
    name as ContractName,
  ]),
);

/** The local schema version id of a contract's current definition. */
export function localSchemaVersionId(name: ContractName): string {
  return localSchemaVersionIds[name];
}

/** The contract a local schema version id belongs to, or undefined for an unknown id. */
export function contractOfLocalSchemaVersionId(id: string): ContractName | undefined {
  return byId.get(id.toLowerCase());
}
