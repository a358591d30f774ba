/**
 * Every definition a contract has been registered with, as the stack registers them: a Glue schema
 * keeps its first definition, and each change is registered as a new schema version that Glue checks
 * for BACKWARD compatibility against the one before; so the stack must register every definition a
 * contract has had, in order (lib/constructs/schema-registry.ts). Contract version N is Glue schema
 * version N.
 *
 * The past definitions are the published ones (schemas/published/<contract>.v<N>.json, written by
 * `npm run contracts -- --publish` after each deploy; schemas/published.ts). To change a contract:
 * change the schema in `schemas/`, bump its number in `contractVersions`; `npm test` checks that the
 * change is BACKWARD compatible with the published version, and that each contract's version equals
 * the number of definitions it has had.
 */
import { type ContractName, contractVersions, schemaDefinition } from './index';
import { definitionText, PUBLISHED_DIR, publishedFileName, publishedVersions } from './published';

/** Every definition of a contract, oldest first, the current one last. */
export function definitionHistory(name: ContractName, dir: string = PUBLISHED_DIR): readonly string[] {
  const published = publishedVersions(name, dir);
  const past: string[] = [];
  for (let version = 1; version < contractVersions[name]; version++) {
    const definition = published.get(version);
    if (definition === undefined) {
      throw new Error(
        `contract "${name}" is at version ${contractVersions[name]} but its version ${version} is not published ` +
          `(schemas/published/${publishedFileName(name, version)}): run \`npm run contracts -- --publish\` after each deploy`,
      );
    }
    past.push(definitionText(definition));
  }
  return [...past, schemaDefinition(name)];
}
