/**
 * cdk-nag v3 as policy-as-test: the AwsSolutions and Serverless packs find nothing unacknowledged in
 * any configuration shape (each turns different resources on), the LocalStack target included, and
 * every acknowledgement sits on a construct narrower than a stack, with a reason.
 */
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { DEPLOYMENT_VARIANTS, synthesizedApp } from '../support/cdk-deployments';

/** A synthesized app of the deployment `context` configures, with or without the packs registered. */
const synthesized = (context: Record<string, unknown>, nag = false): App => synthesizedApp(context, { nag });

/** `rule at construct path` for every finding of `pack` in `app`. */
function findings(pack: NagPack, app: App): string[] {
  return pack
    .validateScope(app)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

const variants = DEPLOYMENT_VARIANTS;

describe.each(Object.entries(variants))('%s', (_name, context) => {
  const app = synthesized(context);

  it.each([
    ['AwsSolutions', () => new AwsSolutionsChecks()],
    ['Serverless', () => new ServerlessChecks()],
  ])('passes the %s pack with no unacknowledged finding', (_pack, pack) => {
    expect(findings(pack(), app)).toEqual([]);
  });
});

describe('acknowledgements', () => {
  it('run on every synth: the packs are registered by the app and pass', () => {
    expect(() => synthesized({}, true)).not.toThrow();
  });

  it.each([
    'API key auth, Express brokers, a NAT gateway instead of endpoints',
    'the LocalStack target (plaintext cluster, topics custom resource, reduced mappings)',
  ])('sit on the construct they concern, never on a stack or the app, each with a reason (%s)', (variant) => {
    const app = synthesized(variants[variant] ?? {});
    const acknowledged: { path: string; id: string; reason: string; on: IConstruct }[] = [];
    for (const c of app.node.findAll()) {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>))
          acknowledged.push({ path: c.node.path, id, reason, on: c });
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      expect(Stack.isStack(a.on) || a.on === app, `${a.id} on ${a.path}`).toBe(false);
      expect(a.reason.length, `reason of ${a.id} on ${a.path}`).toBeGreaterThanOrEqual(60);
    }
  });
});
