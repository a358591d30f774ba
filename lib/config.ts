/**
 * Deployment configuration: read once in bin/app.ts from CDK context (`-c key=value` or cdk.json)
 * and the environment, validated, and passed to the stacks as a typed object. Nothing else reads
 * context or environment variables.
 */

/** Settings of one deployment. */
export interface DeploymentConfig {
  /** Name prefix of every stack and resource, e.g. `events-dev`. */
  readonly stage: string;
  /** AWS account and region; undefined means environment-agnostic synthesis (no credentials needed). */
  readonly env: { readonly account?: string; readonly region?: string };
  /** Glue Schema Registry name. @default `<stage>-events` */
  readonly registryName: string;
  /**
   * Whether stateful resources (the schema registry, topics) are deleted with the stack.
   * @default false: they are retained
   */
  readonly destroyOnRemoval: boolean;
}

/** Bad configuration; lists every problem with the context key it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid deployment configuration:\n- ${problems.join('\n- ')}`);
  }
}

/** Reads a context value; CDK context values from the command line are strings. */
export type ContextReader = (key: string) => unknown;

const STAGE = /^[a-z][a-z0-9-]{1,20}$/;
const REGISTRY = /^[a-zA-Z0-9-_$#.]{1,255}$/;

function asBoolean(value: unknown, key: string, problems: string[]): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  problems.push(`${key} must be true or false, not ${JSON.stringify(value)}`);
  return undefined;
}

/**
 * Builds the configuration from CDK context and the environment CDK sets (`CDK_DEFAULT_ACCOUNT`,
 * `CDK_DEFAULT_REGION`), or throws a {@link ConfigError} naming each bad key.
 */
export function loadConfig(
  context: ContextReader,
  environment: NodeJS.ProcessEnv = process.env,
): DeploymentConfig {
  const problems: string[] = [];
  const stage = String(context('stage') ?? 'dev');
  if (!STAGE.test(stage))
    problems.push(
      `stage "${stage}" must be 2–21 lowercase letters, digits or dashes, starting with a letter`,
    );
  const registryName = String(context('registryName') ?? `${stage}-events`);
  if (!REGISTRY.test(registryName))
    problems.push(`registryName "${registryName}" is not a valid Glue registry name`);
  const destroyOnRemoval = asBoolean(context('destroyOnRemoval'), 'destroyOnRemoval', problems) ?? false;
  const account = environment.CDK_DEFAULT_ACCOUNT;
  const region = environment.CDK_DEFAULT_REGION;
  if (problems.length > 0) throw new ConfigError(problems);
  return { stage, env: { account, region }, registryName, destroyOnRemoval };
}
