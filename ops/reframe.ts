/**
 * What re-drive writes back for a dead letter's value (and key): bytes the source topic's
 * event-source mapping accepts.
 *
 * With the mapping's schema-registry integration (core/topology.ts `schemaRegistry`, EventRecordFormat
 * JSON), the function receives each value already deserialized, as JSON, with
 * `valueSchemaMetadata: { dataFormat, schemaId }` naming the schema version it was validated against
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html). A dead letter the
 * handler writes therefore holds the JSON without its Glue header; written back as it is, the mapping
 * rejects it (DESERIALIZATION_ERROR: not a Glue-framed record). So:
 * - a value that is Glue-framed already (a dead letter the mapping wrote keeps the bytes as produced)
 *   is written back as it is;
 * - a JSON value is framed again (core/glue-wire-format.ts): with the schema version the
 *   record carried (`valueSchemaMetadata.schemaId`, which the handler keeps in the dead letter), or,
 *   when it carried none, with the current schema version of its event type's contract;
 * - anything else (no value, bytes that are neither framed nor JSON) is written back as it is: the
 *   operator re-drives what was produced.
 * A key is framed again only when the record carried `keySchemaMetadata` (this project's keys are
 * plain text). A JSON value that cannot be framed (no contract for its event type, no schema version,
 * a non-JSON data format) is a {@link ReframeError}: re-drive reports that dead letter and sends the
 * others.
 */
import { GetSchemaByDefinitionCommand, GlueClient } from '@aws-sdk/client-glue';
import { encode, GlueWireFormatError, looksFramed } from '../core/glue-wire-format';
import { isEventType } from '../schemas/catalogue';
import { type EventType, schemaDefinition } from '../schemas/index';
import { localSchemaVersionId } from '../schemas/registry';
import { OpsError, UsageError } from './clients';

/** The schema a value or key was deserialized with, as the dead letter keeps it. */
export interface SchemaMetadata {
  readonly dataFormat: string;
  readonly schemaId: string;
}

/** Where the current schema version id of a contract comes from. */
export interface CurrentSchemaIds {
  /** `contracts` or `Glue registry <name>`, for messages. */
  readonly source: string;
  /** The schema version id of the contract's current definition; undefined when the registry has none. */
  idOf(contract: EventType): Promise<string | undefined>;
}

/** A dead letter's value or key that cannot be made acceptable to the mapping; says why. */
export class ReframeError extends Error {
  override readonly name = 'ReframeError';
}

/** What to write for one value or key, and the schema version id it was framed with, if it was. */
export interface RedriveBytes {
  readonly bytes: Buffer | null;
  readonly framedWith?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Buffer): { json: unknown } | undefined {
  try {
    return { json: JSON.parse(utf8.decode(bytes)) };
  } catch {
    return undefined;
  }
}

/** Frames `payload` with `schemaId`, or a {@link ReframeError} naming what is wrong. */
function frame(field: string, payload: Buffer, metadata: SchemaMetadata): RedriveBytes {
  if (metadata.dataFormat.toUpperCase() !== 'JSON') {
    throw new ReframeError(
      `the ${field} was deserialized from ${metadata.dataFormat} (schema ${metadata.schemaId}); only JSON can be framed again`,
    );
  }
  const id = metadata.schemaId.toLowerCase();
  try {
    return { bytes: encode(id, payload), framedWith: id };
  } catch (error) {
    if (error instanceof GlueWireFormatError)
      throw new ReframeError(
        `the ${field}'s schemaId "${metadata.schemaId}" is not a Glue schema version id`,
      );
    throw error;
  }
}

/** The key to write back: framed again only if the mapping deserialized it. */
export function redriveKey(key: Buffer | null, metadata: SchemaMetadata | undefined): RedriveBytes {
  if (!metadata || key === null || key.byteLength === 0 || looksFramed(key)) return { bytes: key };
  if (!parseJson(key)) throw new ReframeError(`the key carries schema ${metadata.schemaId} but is not JSON`);
  return frame('key', key, metadata);
}

/** The value to write back (see the module comment for the choice). */
export async function redriveValue(
  value: Buffer | null,
  metadata: SchemaMetadata | undefined,
  ids: CurrentSchemaIds,
): Promise<RedriveBytes> {
  if (value === null || value.byteLength === 0 || looksFramed(value)) return { bytes: value };
  const parsed = parseJson(value);
  if (!parsed) {
    if (metadata) throw new ReframeError(`the value carries schema ${metadata.schemaId} but is not JSON`);
    return { bytes: value };
  }
  if (metadata) return frame('value', value, metadata);
  const eventType = (parsed.json as { eventType?: unknown } | null)?.eventType;
  if (eventType === undefined) {
    throw new ReframeError(
      'the value is JSON without a Glue header or schema metadata and names no "eventType" to find its schema by',
    );
  }
  if (!isEventType(eventType)) {
    throw new ReframeError(
      `the value is JSON of event type ${JSON.stringify(eventType)}, which has no contract`,
    );
  }
  const id = await ids.idOf(eventType);
  if (!id) {
    throw new ReframeError(
      `the value is JSON of event type "${eventType}", and ${ids.source} has no schema version of its contract`,
    );
  }
  return frame('value', value, { dataFormat: 'JSON', schemaId: id });
}

/** Current schema version ids from the contract files (schemas/registry.ts): the local runtime's ids. */
export function contractSchemaIds(): CurrentSchemaIds {
  return { source: 'contracts', idOf: async (contract) => localSchemaVersionId(contract) };
}

const isNotFound = (error: unknown) => (error as { name?: string }).name === 'EntityNotFoundException';

/**
 * Current schema version ids from a Glue registry, read only: the version whose definition is the
 * contract's current definition (GetSchemaByDefinition,
 * https://docs.aws.amazon.com/glue/latest/webapi/API_GetSchemaByDefinition.html), which is the one the
 * stack registers and the producers write with. Needs `glue:GetSchemaByDefinition` on the registry
 * and its schemas.
 */
function glueSchemaIds(registryName: string, client: GlueClient = new GlueClient({})): CurrentSchemaIds {
  const found = new Map<EventType, Promise<string | undefined>>();
  const source = `Glue registry ${registryName}`;
  const lookUp = async (contract: EventType): Promise<string | undefined> => {
    try {
      const version = await client.send(
        new GetSchemaByDefinitionCommand({
          SchemaId: { RegistryName: registryName, SchemaName: contract },
          SchemaDefinition: schemaDefinition(contract),
        }),
      );
      return version.Status === 'AVAILABLE' ? version.SchemaVersionId?.toLowerCase() : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new OpsError(
        `cannot read the schema version of "${contract}" from ${source}: ${(error as Error).message}`,
        1,
        { cause: error },
      );
    }
  };
  return {
    source,
    idOf(contract) {
      let id = found.get(contract);
      if (!id) {
        id = lookUp(contract);
        found.set(contract, id);
      }
      return id;
    },
  };
}

/**
 * The ids the environment points at. Locally, as the runtime chooses them (local/schema-registry.ts):
 * the Glue API when an AWS endpoint is set (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_GLUE`; registry
 * `GLUE_REGISTRY_NAME`, default `dev-events`), the contract files otherwise. On MSK (`KAFKA_AUTH=iam`)
 * from the stack's Glue registry, named by `GLUE_REGISTRY_NAME` (`<stage>-events`); without it, a dead
 * letter that needs a current id stops the run with a usage error before anything is written.
 */
export function schemaIdsFromEnvironment(env: NodeJS.ProcessEnv = process.env): CurrentSchemaIds {
  if (env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_GLUE)
    return glueSchemaIds(env.GLUE_REGISTRY_NAME || 'dev-events');
  if (env.KAFKA_AUTH === 'iam') {
    if (env.GLUE_REGISTRY_NAME) return glueSchemaIds(env.GLUE_REGISTRY_NAME);
    return {
      source: 'no registry',
      idOf: async () => {
        throw new UsageError(
          'a dead letter holds JSON without schema metadata: set GLUE_REGISTRY_NAME to the stack’s Glue registry (<stage>-events) so that re-drive can frame it with its contract’s current schema version',
        );
      },
    };
  }
  return contractSchemaIds();
}
