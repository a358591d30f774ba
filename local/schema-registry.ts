/**
 * Where the local runtime gets schema version ids.
 *
 * - By default, from the contract files: `schemas/registry.ts` derives each contract's id from its
 *   definition, the same definition the CDK stack registers in Glue.
 * - When an AWS endpoint is configured through the standard SDK settings (`AWS_ENDPOINT_URL` or
 *   `AWS_ENDPOINT_URL_GLUE`, e.g. LocalStack or moto), from the Glue Schema Registry API instead: the
 *   registry (GLUE_REGISTRY_NAME, default `dev-events`, the stack's default name) and any contract
 *   missing from it are created, as the stack would, and the ids Glue assigns are used by the
 *   functions (SCHEMA_VERSION_IDS) and the event-source mappings.
 * Nothing here knows which emulator, if any, is behind the endpoint.
 */
import {
  CreateRegistryCommand,
  CreateSchemaCommand,
  EntityNotFoundException,
  GetRegistryCommand,
  GetSchemaByDefinitionCommand,
  GetSchemaVersionCommand,
  GlueClient,
  RegisterSchemaVersionCommand,
} from '@aws-sdk/client-glue';
import { type ContractName, contractSchemas, schemaDefinition } from '../schemas/index';
import { contractOfLocalSchemaVersionId, localSchemaVersionId } from '../schemas/registry';

export interface SchemaRegistryLookup {
  /** `contracts` or `glue <registry> at <endpoint>`. */
  readonly source: string;
  /** Schema version id of each contract. */
  readonly ids: Readonly<Record<ContractName, string>>;
  /** Whether the functions must be told the ids (they derive local ids themselves otherwise). */
  readonly fromGlue: boolean;
  /** The contract a schema version id belongs to, or undefined when the registry does not know it. */
  schemaOf(schemaVersionId: string): Promise<ContractName | undefined>;
}

const names = () => Object.keys(contractSchemas) as ContractName[];

const isNotFound = (error: unknown) =>
  error instanceof EntityNotFoundException || (error as { name?: string }).name === 'EntityNotFoundException';

/** Schema ids from the contract files. */
function contractRegistry(): SchemaRegistryLookup {
  return {
    source: 'contracts',
    ids: Object.fromEntries(names().map((n) => [n, localSchemaVersionId(n)])) as Record<ContractName, string>,
    fromGlue: false,
    schemaOf: async (id) => contractOfLocalSchemaVersionId(id),
  };
}

/** Schema ids from the Glue API at the configured endpoint; registers what is missing. */
export async function glueRegistry(
  registryName: string,
  client = new GlueClient({}),
): Promise<SchemaRegistryLookup> {
  try {
    await client.send(new GetRegistryCommand({ RegistryId: { RegistryName: registryName } }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await client.send(
      new CreateRegistryCommand({
        RegistryName: registryName,
        Description: 'Event contracts (local mirror of the CDK stack)',
      }),
    );
  }
  const ids = {} as Record<ContractName, string>;
  for (const name of names()) {
    const SchemaDefinition = schemaDefinition(name);
    const SchemaId = { RegistryName: registryName, SchemaName: name };
    try {
      const found = await client.send(new GetSchemaByDefinitionCommand({ SchemaId, SchemaDefinition }));
      ids[name] = found.SchemaVersionId as string;
      continue;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      const created = await client.send(
        new CreateSchemaCommand({
          RegistryId: { RegistryName: registryName },
          SchemaName: name,
          DataFormat: 'JSON',
          Compatibility: 'BACKWARD',
          SchemaDefinition,
        }),
      );
      ids[name] = created.SchemaVersionId as string;
    } catch (error) {
      if ((error as { name?: string }).name !== 'AlreadyExistsException') throw error;
      const registered = await client.send(new RegisterSchemaVersionCommand({ SchemaId, SchemaDefinition }));
      ids[name] = registered.SchemaVersionId as string;
    }
  }
  const byId = new Map(Object.entries(ids).map(([name, id]) => [id.toLowerCase(), name as ContractName]));
  return {
    source: `glue ${registryName}`,
    ids,
    fromGlue: true,
    async schemaOf(id) {
      const known = byId.get(id.toLowerCase());
      if (known) return known;
      try {
        const version = await client.send(new GetSchemaVersionCommand({ SchemaVersionId: id }));
        const name = version.SchemaArn?.split('/').at(-1) as ContractName | undefined;
        if (name && Object.hasOwn(contractSchemas, name)) {
          byId.set(id.toLowerCase(), name);
          return name;
        }
        return undefined;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
  };
}

/** The registry the environment asks for. */
export async function schemaRegistryFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): Promise<SchemaRegistryLookup> {
  if (env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_GLUE)
    return glueRegistry(env.GLUE_REGISTRY_NAME ?? 'dev-events');
  return contractRegistry();
}
