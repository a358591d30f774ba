/**
 * Past definitions of the contracts, oldest first, as registered in Glue. A Glue schema keeps its
 * first definition, and each change is registered as a new schema version that Glue checks for
 * BACKWARD compatibility against the one before; so the stack must register every definition a
 * contract has had, in order (lib/constructs/schema-registry.ts).
 *
 * To change a contract: copy its current definition text (`schemaDefinition(name)`) to the end of
 * its list here, then change the schema and bump its number in `contractVersions`. A test checks
 * that each contract's version equals the number of definitions it has had.
 */
import type { ContractName } from './index';
import { schemaDefinition } from './index';

/** Definitions each contract had before its current one, oldest first. Every contract is at v1. */
export const pastDefinitions: Readonly<Partial<Record<ContractName, readonly string[]>>> = {};

/** Every definition of a contract, oldest first, the current one last. */
export function definitionHistory(name: ContractName): readonly string[] {
  return [...(pastDefinitions[name] ?? []), schemaDefinition(name)];
}
