/**
 * `npm run localstack:deploy [-- -c key=value ... --update]`: `cdklocal bootstrap` and `cdklocal deploy
 * --all -c target=localstack`, after checking that the stacks are not there already.
 *
 * LocalStack updates few of the resource types this app deploys: its CloudFormation coverage
 * (localstack/localstack-docs `src/data/cloudformation/coverage.json`, generated 2026-04-27, the data of
 * https://docs.localstack.cloud/aws/services/cloudformation/) marks `"update": false` for
 * AWS::MSK::Cluster, AWS::Glue::Registry/Schema/SchemaVersion, AWS::Lambda::EventSourceMapping,
 * AWS::IAM::Role and Policy, AWS::CloudFormation::CustomResource, AWS::Logs::LogGroup, AWS::KMS::Key,
 * AWS::EC2::* and AWS::CloudWatch::Alarm (AWS::Lambda::Function, AWS::DynamoDB::Table and
 * AWS::ApiGateway::RestApi are updatable). Deploying a change over existing stacks may therefore leave
 * resources as they were or fail half-way, so the way to apply a change is to destroy and deploy again.
 * This script stops, with that instruction, when a stack of the stage already exists (CloudFormation
 * DescribeStacks on LocalStack, https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html),
 * unless `--update` asks to try anyway. The check is in {@link preflight}, with its I/O passed in
 * (test/unit/localstack-deploy.test.ts).
 */

import { localstackClientConfig, localstackEndpoint } from './endpoint';

/** The part of a DescribeStacks answer the check reads. */
export interface DescribeStacksOutput {
  readonly Stacks?: readonly { readonly StackName?: string; readonly StackStatus?: string }[];
}

export interface DeployIo {
  /**
   * DescribeStacks of one stack. CloudFormation answers a stack that does not exist with a
   * `ValidationError` ("Stack with id <name> does not exist"): the function then rejects with it.
   */
  describeStacks(stackName: string): Promise<DescribeStacksOutput>;
  log(line: string): void;
}

export interface DeployPlan {
  /** Whether to go on with bootstrap and deploy. */
  readonly proceed: boolean;
  /** The cdklocal arguments of the deploy (context keys passed through, `--update` removed). */
  readonly deployArgs: readonly string[];
  readonly existing: readonly { name: string; status: string }[];
}

/** The stage named by `-c stage=<name>` (or `--context stage=<name>`) in `args`, else dev. */
export function stageOf(args: readonly string[]): string {
  let stage = 'dev';
  args.forEach((arg, i) => {
    const value = arg === '-c' || arg === '--context' ? args[i + 1] : arg.replace(/^--context=/, '');
    const match = /^stage=(.+)$/.exec(value ?? '');
    if (match?.[1]) stage = match[1];
  });
  return stage;
}

const doesNotExist = (error: unknown) =>
  /does not exist/i.test(String((error as { message?: string })?.message ?? error));

/** Checks the stage's stacks on LocalStack and says whether to deploy (see the module comment). */
export async function preflight(io: DeployIo, args: readonly string[]): Promise<DeployPlan> {
  const update = args.includes('--update');
  const passed = args.filter((a) => a !== '--update');
  const stage = stageOf(passed);
  const deployArgs = [
    'deploy',
    '--all',
    '-c',
    'target=localstack',
    ...passed,
    '--require-approval',
    'never',
    '--outputs-file',
    '.cache/localstack-outputs.json',
  ];
  const existing: { name: string; status: string }[] = [];
  for (const name of [`${stage}-kafka`, `${stage}-events`]) {
    try {
      const answer = await io.describeStacks(name);
      const stack = answer.Stacks?.[0];
      // A deleted stack can still be listed by its id with DELETE_COMPLETE; by name it is gone.
      if (stack && stack.StackStatus !== 'DELETE_COMPLETE')
        existing.push({ name, status: stack.StackStatus ?? 'unknown status' });
    } catch (error) {
      if (!doesNotExist(error)) throw error;
    }
  }
  if (existing.length === 0) return { proceed: true, deployArgs, existing };
  const found = existing.map((s) => `${s.name} (${s.status})`).join(', ');
  if (update) {
    io.log(
      `${found} already on LocalStack: deploying over them (--update). LocalStack's CloudFormation does not ` +
        'update most resource types here; if the result is not what you deployed, run npm run localstack:destroy and deploy again.',
    );
    return { proceed: true, deployArgs, existing };
  }
  io.log(
    `${found} already on LocalStack. LocalStack's CloudFormation does not update most resource types this app ` +
      'uses (MSK cluster, event-source mappings, IAM roles, custom resources, log groups), so a change is applied by ' +
      'destroying and deploying again:\n' +
      `  npm run localstack:destroy${stage === 'dev' ? '' : ` -- -c stage=${stage}`}\n` +
      `  npm run localstack:deploy${passed.length > 0 ? ` -- ${passed.join(' ')}` : ''}\n` +
      'To deploy over the existing stacks anyway, add --update.',
  );
  return { proceed: false, deployArgs, existing };
}

/** Real I/O: CloudFormation on LocalStack, then cdklocal. */
async function main(): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cloudformation = new CloudFormationClient(localstackClientConfig());
  const args = process.argv.slice(2);
  const plan = await preflight(
    {
      describeStacks: (StackName) => cloudformation.send(new DescribeStacksCommand({ StackName })),
      log: (line) => console.log(line),
    },
    args,
  );
  if (!plan.proceed) {
    process.exitCode = 1;
    return;
  }
  const run = (cdkArgs: readonly string[]) =>
    spawnSync('npx', ['cdklocal', ...cdkArgs], { stdio: 'inherit' }).status ?? 1;
  const passed = args.filter((a) => a !== '--update');
  const bootstrapped = run(['bootstrap', '-c', 'target=localstack', ...passed]);
  process.exitCode = bootstrapped === 0 ? run(plan.deployArgs) : bootstrapped;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(
      `localstack:deploy cannot check LocalStack at ${localstackEndpoint(process.env)}: ${error.message} ` +
        '(is it running? docker compose up -d; npm run localstack:doctor)',
    );
    process.exit(1);
  });
}
