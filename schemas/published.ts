/**
 * The contracts as last deployed: `schemas/published/<contract>.v<N>.json` holds the definition
 * contract `<contract>` was registered with as Glue schema version N. Contract version N is Glue
 * schema version N: the stack registers a contract's first definition as the `AWS::Glue::Schema`
 * (version 1) and each later one as an `AWS::Glue::SchemaVersion`, in order
 * (lib/constructs/schema-registry.ts, schemas/history.ts).
 *
 * `npm run contracts -- --publish` writes the current definitions there after a deploy, and
 * {@link checkPublished} is what `npm test` runs before the next one (test/unit/schema-compatibility.test.ts):
 * a contract whose definition changed must have its version bumped by one, and its new definition
 * must be BACKWARD compatible with the last published one (schemas/compatibility.ts) — the check
 * Glue makes only at deploy time, against the latest version for `BACKWARD`
 * (https://docs.aws.amazon.com/glue/latest/dg/schema-registry.html#schema-registry-compatibility).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backwardIncompatibilities, describeDifference, type JsonSchema } from './compatibility';

/** Directory of the published definitions. */
export const PUBLISHED_DIR = fileURLToPath(new URL('./published/', import.meta.url));

/** File name of version `version` of contract `name`. */
export const publishedFileName = (name: string, version: number) => `${name}.v${version}.json`;

/** The published definitions of contract `name`, by version (none: never deployed). */
export function publishedVersions(name: string, dir: string = PUBLISHED_DIR): Map<number, JsonSchema> {
  const versions = new Map<number, JsonSchema>();
  if (!existsSync(dir)) return versions;
  const pattern = new RegExp(`^${name.replace(/[^\w]/g, '\\$&')}\\.v([1-9][0-9]*)\\.json$`);
  for (const file of readdirSync(dir)) {
    const match = pattern.exec(file);
    if (!match) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    try {
      versions.set(Number(match[1]), JSON.parse(text) as JsonSchema);
    } catch (error) {
      throw new Error(`${join(dir, file)} is not JSON: ${(error as Error).message}`);
    }
  }
  return versions;
}

/** Definition text as the stack registers it (`schemaDefinition`): compact JSON, keys in order. */
export const definitionText = (schema: JsonSchema) => JSON.stringify(schema);

export interface PublishedCheckInput {
  readonly name: string;
  /** The contract's current schema (plain JSON). */
  readonly current: JsonSchema;
  /** Its current version (`contractVersions`). */
  readonly version: number;
  /** Its published definitions, by version. */
  readonly published: ReadonlyMap<number, JsonSchema>;
}

/**
 * What would stop contract `input.name` from deploying, or deploy it wrongly, as sentences naming
 * the contract, the field and the rule; none when it is fine.
 */
export function checkPublished(input: PublishedCheckInput): string[] {
  const { name, current, version, published } = input;
  const versions = [...published.keys()].sort((a, b) => a - b);
  const last = versions.at(-1) ?? 0;
  const file = (v: number) => `schemas/published/${publishedFileName(name, v)}`;
  const gaps = Array.from({ length: last }, (_, i) => i + 1).filter((v) => !published.has(v));
  if (gaps.length > 0) {
    return [`${name}: published versions ${gaps.join(', ')} are missing (up to ${file(last)})`];
  }
  if (!Number.isInteger(version) || version < 1)
    return [`${name}: version ${version} is not a version number`];
  if (version < last) {
    return [`${name}: its version is ${version}, yet version ${last} is published (${file(last)})`];
  }
  if (version > last + 1) {
    return [
      `${name}: its version is ${version}, but the last published is ${last === 0 ? 'none' : last}: ` +
        'publish each version after deploying it (npm run contracts -- --publish), one version at a time',
    ];
  }
  const previous = published.get(last);
  if (previous === undefined) return []; // a new contract: its first definition needs no check
  const unchanged = definitionText(previous) === definitionText(current);
  if (version === last) {
    if (unchanged) return [];
    const changes = backwardIncompatibilities(previous, current).map(describeDifference);
    return [
      `${name}: its schema differs from its published version ${last} (${file(last)}), which Glue keeps ` +
        `unchanged: bump contractVersions.${name} to ${last + 1} in schemas/index.ts` +
        (changes.length > 0 ? `; and the change is not BACKWARD compatible: ${changes.join('; ')}` : ''),
    ];
  }
  if (unchanged) {
    return [
      `${name}: version ${version} has the same definition as published version ${last}: nothing to bump`,
    ];
  }
  return backwardIncompatibilities(previous, current).map(
    (d) =>
      `${name} v${version} is not BACKWARD compatible with published v${last} (${file(last)}), as the registry's BACKWARD mode requires: ${describeDifference(d)}`,
  );
}
