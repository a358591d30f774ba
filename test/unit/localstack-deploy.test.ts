/**
 * `npm run localstack:deploy`'s check before deploying (scripts/localstack/deploy.ts), against
 * answers shaped like CloudFormation DescribeStacks
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html: `Stacks`
 * with `StackName` and `StackStatus`; a stack that does not exist is a `ValidationError`,
 * "Stack with id <name> does not exist").
 */
import { describe, expect, it } from 'vitest';
import {
  type DeployIo,
  type DescribeStacksOutput,
  preflight,
  stageOf,
} from '../../scripts/localstack/deploy';

function io(stacks: Record<string, string>) {
  const log: string[] = [];
  const asked: string[] = [];
  const fake: DeployIo = {
    describeStacks: async (name): Promise<DescribeStacksOutput> => {
      asked.push(name);
      const status = stacks[name];
      if (!status) {
        const error = new Error(`Stack with id ${name} does not exist`);
        error.name = 'ValidationError';
        throw error;
      }
      return {
        Stacks: [
          {
            StackName: name,
            StackStatus: status,
          },
        ],
      };
    },
    log: (line) => log.push(line),
  };
  return { fake, log, asked };
}

const DEPLOY_TAIL = ['--require-approval', 'never', '--outputs-file', '.cache/localstack-outputs.json'];

describe('localstack:deploy preflight', () => {
  it('deploys when the stage has no stacks on LocalStack', async () => {
    const { fake, log, asked } = io({});
    const plan = await preflight(fake, []);
    expect(plan).toEqual({
      proceed: true,
      deployArgs: ['deploy', '--all', '-c', 'target=localstack', ...DEPLOY_TAIL],
      existing: [],
    });
    expect(asked).toEqual(['dev-kafka', 'dev-events']);
    expect(log).toEqual([]);
  });

  it('stops with the destroy-and-deploy instruction when a stack of the stage exists', async () => {
    const { fake, log } = io({ 'prod-kafka': 'CREATE_COMPLETE', 'prod-events': 'ROLLBACK_COMPLETE' });
    const plan = await preflight(fake, ['-c', 'stage=prod']);
    expect(plan.proceed).toBe(false);
    expect(plan.existing).toEqual([
      { name: 'prod-kafka', status: 'CREATE_COMPLETE' },
      { name: 'prod-events', status: 'ROLLBACK_COMPLETE' },
    ]);
    expect(log.join('\n')).toContain(
      'prod-kafka (CREATE_COMPLETE), prod-events (ROLLBACK_COMPLETE) already on LocalStack.',
    );
    expect(log.join('\n')).toContain(
      '  npm run localstack:destroy -- -c stage=prod\n  npm run localstack:deploy -- -c stage=prod',
    );
    expect(log.join('\n')).toContain('add --update');
  });

  it('deploys over existing stacks with --update, passing the other arguments to cdklocal', async () => {
    const { fake, log } = io({ 'dev-kafka': 'CREATE_COMPLETE' });
    const plan = await preflight(fake, ['--update', '-c', 'logLevel=INFO']);
    expect(plan.proceed).toBe(true);
    expect(plan.deployArgs).toEqual([
      'deploy',
      '--all',
      '-c',
      'target=localstack',
      '-c',
      'logLevel=INFO',
      ...DEPLOY_TAIL,
    ]);
    expect(log[0]).toMatch(
      /^dev-kafka \(CREATE_COMPLETE\) already on LocalStack: deploying over them \(--update\)/,
    );
  });

  it('ignores a stack listed as deleted, and rethrows any other error', async () => {
    expect((await preflight(io({ 'dev-kafka': 'DELETE_COMPLETE' }).fake, [])).proceed).toBe(true);
    const failing: DeployIo = {
      describeStacks: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:4566');
      },
      log: () => {},
    };
    await expect(preflight(failing, [])).rejects.toThrow('ECONNREFUSED');
  });

  it('reads the stage from -c, --context and --context=', () => {
    expect(stageOf([])).toBe('dev');
    expect(stageOf(['-c', 'stage=qa'])).toBe('qa');
    expect(stageOf(['--context', 'stage=qa2'])).toBe('qa2');
    expect(stageOf(['--context=stage=qa3'])).toBe('qa3');
  });
});
