import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';
import { ContractsStack } from '../../lib/stacks/contracts-stack';
import { contractSchemas, schemaDefinition } from '../../schemas/index';

const run = promisify(execFile);

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context });
  const config = loadConfig((k) => app.node.tryGetContext(k), {});
  return Template.fromStack(new ContractsStack(app, 'contracts', { config }));
}

describe('contracts stack', () => {
  it('registers every contract in one Glue registry as JSON, with the definition the validator compiles', () => {
    const template = synth();
    template.resourceCountIs('AWS::Glue::Registry', 1);
    template.resourceCountIs('AWS::Glue::Schema', Object.keys(contractSchemas).length);
    for (const name of Object.keys(contractSchemas) as (keyof typeof contractSchemas)[]) {
      template.hasResourceProperties('AWS::Glue::Schema', {
        Name: name,
        DataFormat: 'JSON',
        Compatibility: 'BACKWARD',
        SchemaDefinition: schemaDefinition(name),
        Registry: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Registry'), 'Arn'] } },
      });
    }
  });

  it('retains the registry and schemas unless told to destroy them', () => {
    expect(Object.values(synth().findResources('AWS::Glue::Schema')).map((r) => r.DeletionPolicy)).toEqual(
      Object.keys(contractSchemas).map(() => 'Retain'),
    );
    synth({ destroyOnRemoval: 'true' }).hasResource('AWS::Glue::Registry', { DeletionPolicy: 'Delete' });
  });

  it('names the registry after the stage', () => {
    synth({ stage: 'prod' }).hasResourceProperties('AWS::Glue::Registry', { Name: 'prod-events' });
  });
});

describe('deployment configuration', () => {
  it('lists every bad context key', () => {
    const context: Record<string, unknown> = { stage: 'Prod!', destroyOnRemoval: 'maybe' };
    expect(() => loadConfig((k) => context[k], {})).toThrow(ConfigError);
    try {
      loadConfig((k) => context[k], {});
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'stage "Prod!" must be 2–21 lowercase letters, digits or dashes, starting with a letter',
        'registryName "Prod!-events" is not a valid Glue registry name',
        'destroyOnRemoval must be true or false, not "maybe"',
      ]);
    }
  });

  it('takes account and region from the environment CDK sets', () => {
    const config = loadConfig(() => undefined, {
      CDK_DEFAULT_ACCOUNT: '111122223333',
      CDK_DEFAULT_REGION: 'eu-west-1',
    });
    expect(config).toEqual({
      stage: 'dev',
      env: { account: '111122223333', region: 'eu-west-1' },
      registryName: 'dev-events',
      destroyOnRemoval: false,
    });
  });
});

describe('the cdk CLI', () => {
  it('synthesizes the app through tsx with no AWS credentials and no network', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cdk-out-'));
    try {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' };
      await run('npx', ['cdk', 'synth', '--quiet', '--output', out], { env });
      const template = JSON.parse(await readFile(join(out, 'dev-contracts.template.json'), 'utf8'));
      const schemas = Object.values(template.Resources as Record<string, { Type: string }>).filter(
        (r) => r.Type === 'AWS::Glue::Schema',
      );
      expect(schemas).toHaveLength(Object.keys(contractSchemas).length);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
