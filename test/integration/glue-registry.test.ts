/**
 * The local runtime's Glue mode against the Glue Schema Registry API. AWS Glue cannot run here, so a
 * moto server on loopback stands in for it (reached through AWS_ENDPOINT_URL, as LocalStack would be);
 * the code under test only knows the standard SDK settings.
 */
import { GetSchemaVersionCommand, GlueClient } from '@aws-sdk/client-glue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glueRegistry, schemaRegistryFromEnvironment } from '../../local/schema-registry';
import { contractSchemas, schemaDefinition } from '../../schemas/index';
import { startMoto } from '../support/python-tools';

let moto: Awaited<ReturnType<typeof startMoto>>;
let client: GlueClient;

beforeAll(async () => {
  moto = await startMoto();
  client = new GlueClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}, 700_000);
afterAll(async () => {
  await moto?.stop();
});

describe('schema registry through the Glue API (moto stands in for AWS Glue)', () => {
  it('registers every contract with its definition, and resolves the ids Glue assigned', async () => {
    const registry = await glueRegistry('dev-events', client);
    const names = Object.keys(contractSchemas);
    expect(Object.keys(registry.ids).sort()).toEqual([...names].sort());
    for (const name of names) {
      const id = registry.ids[name as keyof typeof registry.ids];
      const version = await client.send(new GetSchemaVersionCommand({ SchemaVersionId: id }));
      expect(version.SchemaDefinition).toBe(schemaDefinition(name as keyof typeof contractSchemas));
      expect(version.DataFormat).toBe('JSON');
      expect(await registry.schemaOf(id)).toBe(name);
    }
    expect(await registry.schemaOf('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('finds the same ids on a second start instead of registering again', async () => {
    const first = await glueRegistry('second-start', client);
    const second = await glueRegistry('second-start', client);
    expect(second.ids).toEqual(first.ids);
  });

  it('is used when AWS_ENDPOINT_URL is set, and not otherwise', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        GLUE_REGISTRY_NAME: 'from-env',
      });
      const viaGlue = await schemaRegistryFromEnvironment();
      expect(viaGlue).toMatchObject({ source: 'glue from-env', fromGlue: true });
      expect(await schemaRegistryFromEnvironment({})).toMatchObject({ source: 'contracts', fromGlue: false });
    } finally {
      process.env = saved;
    }
  });
});
