/**
 * `npm run localstack:doctor [-- -c key=value ...]`: before `npm run localstack:deploy`, checks what a
 * first deploy would otherwise show twenty minutes in: Docker, the LocalStack auth token, LocalStack
 * itself (up, licensed, every service the templates use available, its version against the one
 * docker-compose.yml pins), the functions' architecture against the Docker host's, `cdklocal`, Node
 * and the ports. Prints one line per check (✓ ok, ! warning, ✗ problem) with the fix under each
 * problem, and exits non-zero if there is a problem.
 *
 * The checks are pure functions of what was read ({@link runDoctor} takes a {@link DoctorIo}), so
 * test/unit/localstack-doctor.test.ts runs them against recorded LocalStack and Docker answers
 * (test/fixtures/localstack/doctor-recorded.ts); {@link main} wires the real Docker CLI, HTTP and
 * the CDK app.
 *
 * Sources (what each answer looks like, and what the doctor relies on):
 * - [HEALTH] `GET /_localstack/health` answers `{ services: { <name>: <state> }, edition, version,
 *   features }`; `edition` is one of community|pro|enterprise|unknown (localstack/localstack,
 *   `localstack-core/localstack/services/internal.py` HealthResource and `openapi.yaml`
 *   `get_features_and_services`; https://docs.localstack.cloud/aws/capabilities/config/internal-endpoints/).
 *   Service states are unknown|available|disabled|starting|running|stopping|stopped|error, and a
 *   service not in `SERVICES` is `disabled` (`localstack-core/localstack/services/plugins.py`,
 *   ServiceState and ServiceManager.add_service).
 * - [INFO] `GET /_localstack/info` answers version, edition, is_license_activated, session_id,
 *   machine_id, system, is_docker, server_time_utc, uptime (same files, InfoResource, SessionInfo).
 * - [CONFIG] `GET /_localstack/config` exists only with `ENABLE_CONFIG_UPDATES=1` (internal.py).
 * - [ENDPOINT] `LOCALSTACK_HOST` is `<hostname>:<port>`, default `localhost.localstack.cloud:4566`
 *   (https://docs.localstack.cloud/aws/capabilities/config/configuration/); `AWS_ENDPOINT_URL` is the
 *   AWS SDKs' standard endpoint setting, which `cdklocal` and the smoke run use; the order is
 *   `localstackEndpoint` (scripts/localstack/endpoint.ts), shared with the deploy and smoke scripts.
 * - [CFN-SERVICE] The LocalStack service a CloudFormation type belongs to: LocalStack's own mapping,
 *   `get_service_name` in `localstack-core/localstack/services/cloudformation/resource_provider.py`
 *   (`AWS::MSK::*` → `kafka`, `AWS::<Service>::*` → `<service>` lowercased, a few renames).
 * - [DOCKER] `docker info --format json` prints the Engine API's SystemInfo (`Architecture` "as
 *   returned by the operating system", e.g. x86_64 / aarch64; `OSType`; `ServerVersion`), and
 *   `ServerErrors` when the daemon cannot be reached (docker/cli `cli/command/system/info.go`;
 *   https://docs.docker.com/reference/api/engine/version/v1.57/operations/SystemInfo.md;
 *   https://docs.docker.com/reference/cli/docker/system/info/).
 * - [ARCH] LocalStack runs a function in a container of the function's architecture; without
 *   emulation on the host it does not start unless LocalStack runs with LAMBDA_IGNORE_ARCHITECTURE=1
 *   (https://docs.localstack.cloud/aws/services/lambda/, "Architectures"; lib/target.ts
 *   functionArchitecture).
 * - [BOOTSTRAP] `cdklocal bootstrap` deploys CDK's bootstrap stack: an S3 bucket, an ECR repository,
 *   IAM roles and policies and an SSM parameter (KMS only with a customer key)
 *   (node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml); `cdk deploy` then calls STS and
 *   CloudFormation.
 */

import { type FunctionArchitecture, functionArchitecture } from '../../lib/target';
import { localstackEndpoint } from './endpoint';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the report. */
export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do, for a warning or a problem. */
  readonly fix?: string;
}

/** What `docker info --format json` gave: its output, or that the `docker` command is missing. */
export type DockerInfoAnswer =
  | { readonly kind: 'output'; readonly stdout: string; readonly stderr: string }
  | { readonly kind: 'not-installed' };

/** An HTTP answer, or why there was none (the error's code, e.g. ECONNREFUSED, ENOTFOUND). */
export type HttpAnswer =
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'unreachable'; readonly code: string; readonly message: string };

/** What the doctor needs from the outside world. */
export interface DoctorIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `process.version`. */
  readonly nodeVersion: string;
  /** `process.arch` of the machine running `cdk` (what the LocalStack target builds for). */
  readonly hostArch: string;
  dockerInfo(): Promise<DockerInfoAnswer>;
  /** GET of a URL, its body parsed as JSON. */
  getJson(url: string): Promise<HttpAnswer>;
  /**
   * LAMBDA_IGNORE_ARCHITECTURE of the running LocalStack, if it can be seen (the config endpoint,
   * or the environment of the container that publishes port 4566); undefined when unknown.
   * Only this variable is read: never the container's auth token.
   */
  lambdaIgnoreArchitecture(endpoint: string): Promise<string | boolean | undefined>;
  /** docker-compose.yml's text, undefined if there is none. */
  composeFile(): Promise<string | undefined>;
  /** Whether node_modules/.bin/cdklocal exists. */
  hasCdklocal(): Promise<boolean>;
  /** Whether a TCP port on 127.0.0.1 is taken. */
  portInUse(port: number): Promise<boolean>;
  /** The resource types of the LocalStack target's templates, synthesized with this context. */
  templateResourceTypes(context: Readonly<Record<string, string>>): Promise<string[]>;
}

export interface DoctorOptions {
  /** `-c key=value` context, as given to `cdklocal deploy`. */
  readonly context: Readonly<Record<string, string>>;
  /** Node majors: below `minimum` is a problem (aws-cdk-lib's engines), other than `recommended` a warning (.nvmrc). */
  readonly node: { readonly minimum: number; readonly recommended: number };
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

/** Parses `-c key=value` / `--context key=value` (also `--context=key=value`); anything else is an error. */
export function parseContextArgs(args: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    let pair: string | undefined;
    if (arg === '-c' || arg === '--context') pair = args[++i];
    else if (arg.startsWith('--context=')) pair = arg.slice('--context='.length);
    else
      throw new Error(
        `unexpected argument "${arg}": the doctor takes only CDK context, as -c key=value (e.g. -c localstackGlue=true)`,
      );
    const eq = pair?.indexOf('=') ?? -1;
    if (!pair || eq < 1)
      throw new Error(`${arg} needs key=value, got ${pair === undefined ? 'nothing' : `"${pair}"`}`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (context.target !== undefined && context.target !== 'localstack')
    throw new Error(`-c target=${context.target}: the doctor checks the LocalStack target only`);
  const arch = context.lambdaArchitecture;
  if (arch !== undefined && arch !== 'arm64' && arch !== 'x86_64')
    throw new Error(`-c lambdaArchitecture=${arch}: use arm64 or x86_64`);
  return context;
}

// ---------------------------------------------------------------------------------------------
// Docker

export interface DockerFacts {
  readonly reachable: boolean;
  /** Normalized to the Lambda names: arm64 or x86_64 (Docker answers x86_64 / aarch64). */
  readonly architecture?: FunctionArchitecture | string;
  readonly osType?: string;
  readonly serverVersion?: string;
  readonly error?: string;
}

/** The Lambda architecture name of a machine name (`uname -m`, Node's `process.arch`, Docker's). */
export function normalizeArch(machine: string): FunctionArchitecture | string {
  const m = machine.trim().toLowerCase();
  if (m === 'x86_64' || m === 'amd64' || m === 'x64') return 'x86_64';
  if (m === 'aarch64' || m === 'arm64' || m === 'armv8') return 'arm64';
  return m;
}

/** What `docker info --format json` says ([DOCKER]). */
export function parseDockerInfo(answer: DockerInfoAnswer): DockerFacts {
  if (answer.kind === 'not-installed')
    return { reachable: false, error: 'the docker command is not installed' };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(answer.stdout) as Record<string, unknown>;
  } catch {
    const said = (answer.stderr || answer.stdout).trim().split('\n')[0] ?? '';
    return { reachable: false, error: said || 'docker info printed nothing' };
  }
  const serverErrors = Array.isArray(json.ServerErrors) ? (json.ServerErrors as string[]) : [];
  // Docker CLI 28 prints the client part and an empty server part, with the error on stderr, when the
  // daemon is down; older CLIs put it in ServerErrors.
  if (serverErrors.length > 0 || typeof json.ServerVersion !== 'string' || json.ServerVersion === '')
    return {
      reachable: false,
      error: serverErrors[0] ?? (answer.stderr.trim().split('\n')[0] || 'docker info has no server part'),
    };
  return {
    reachable: true,
    architecture: typeof json.Architecture === 'string' ? normalizeArch(json.Architecture) : undefined,
    osType: typeof json.OSType === 'string' ? json.OSType : undefined,
    serverVersion: json.ServerVersion,
  };
}

export function checkDocker(docker: DockerFacts): CheckResult {
  const name = 'Docker';
  if (!docker.reachable) {
    const notInstalled = docker.error === 'the docker command is not installed';
    return {
      name,
      status: 'fail',
      detail: notInstalled ? 'the docker command is not installed' : `not reachable: ${docker.error}`,
      fix: notInstalled
        ? 'Install Docker (Docker Desktop, or Docker Engine on Linux): https://docs.docker.com/get-started/get-docker/'
        : 'Start Docker (Docker Desktop, or `sudo systemctl start docker`), then check `docker info` works: ' +
          'DOCKER_HOST / `docker context ls` must point at a running daemon, and on Linux your user needs access ' +
          'to /var/run/docker.sock (the docker group). LocalStack mounts that socket to start the functions and the broker.',
    };
  }
  if (docker.osType && docker.osType !== 'linux')
    return {
      name,
      status: 'fail',
      detail: `Docker ${docker.serverVersion} runs ${docker.osType} containers`,
      fix: 'Switch Docker to Linux containers: LocalStack and the Lambda containers it starts are Linux images.',
    };
  return {
    name,
    status: 'ok',
    detail: `Docker ${docker.serverVersion}, ${docker.osType ?? 'linux'}/${docker.architecture ?? 'unknown architecture'}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Token, LocalStack health, edition, services, version

export function checkAuthToken(
  env: Readonly<Record<string, string | undefined>>,
  licensed: boolean | undefined,
): CheckResult {
  const name = 'LOCALSTACK_AUTH_TOKEN';
  if (env.LOCALSTACK_AUTH_TOKEN?.trim()) return { name, status: 'ok', detail: 'set (not shown)' };
  const fix =
    'export LOCALSTACK_AUTH_TOKEN=<your token> (LocalStack web app, "Auth Tokens"); docker-compose.yml reads it ' +
    'from the environment and refuses to start without it. MSK, the Glue schema registry and Kafka event-source ' +
    'mappings are in LocalStack’s paid tiers.';
  if (licensed)
    return {
      name,
      status: 'warn',
      detail: 'not set in this shell (the running LocalStack is licensed, so it was set where it started)',
      fix,
    };
  return { name, status: 'fail', detail: 'not set', fix };
}

/** A LocalStack that answered /_localstack/health (and maybe /_localstack/info). */
export interface LocalStackFacts {
  readonly endpoint: string;
  readonly health?: { services: Record<string, string>; edition?: string; version?: string };
  readonly info?: { version?: string; edition?: string; is_license_activated?: boolean; system?: string };
  /** Why there is no health answer. */
  readonly error?: string;
  /** The default host did not resolve but 127.0.0.1 answered. */
  readonly dnsFallback?: boolean;
}

export function checkLocalStackUp(ls: LocalStackFacts): CheckResult {
  const name = 'LocalStack';
  if (!ls.health)
    return {
      name,
      status: 'fail',
      detail: `no answer from ${ls.endpoint}/_localstack/health: ${ls.error}`,
      fix:
        'Start it: `docker compose up -d` (then `docker compose logs -f localstack` until "Ready."). If it runs ' +
        'elsewhere, point AWS_ENDPOINT_URL (or LOCALSTACK_HOST=<host>:<port>) at it.',
    };
  const version = ls.health.version ?? ls.info?.version ?? 'unknown version';
  if (ls.dnsFallback)
    return {
      name,
      status: 'warn',
      detail: `up (${version}) on 127.0.0.1, but localhost.localstack.cloud does not resolve here`,
      // LocalStack's own CLI falls back the same way ("Could not resolve localhost.localstack.cloud, falling
      // back to 127.0.0.1", github.com/localstack/lstk internal/endpoint ResolveHost); the name and all its
      // subdomains resolve to 127.0.0.1 (https://docs.localstack.cloud/aws/tooling/dns-server/).
      fix:
        'The smoke run calls the API at <id>.execute-api.localhost.localstack.cloud, which must resolve to ' +
        '127.0.0.1: allow answers pointing at 127.0.0.1 in your DNS resolver (routers with "DNS rebind ' +
        'protection" drop them), or use LocalStack’s DNS server on this machine ' +
        '(https://docs.localstack.cloud/aws/tooling/dns-server/, "System DNS configuration"). An /etc/hosts ' +
        'line maps localhost.localstack.cloud but not the API’s subdomains.',
    };
  return { name, status: 'ok', detail: `up at ${ls.endpoint} (${version})` };
}

/** The edition and licence ([HEALTH] edition, [INFO] is_license_activated). */
export function checkEdition(ls: LocalStackFacts): CheckResult | undefined {
  if (!ls.health) return undefined;
  const name = 'LocalStack edition';
  const edition = ls.health.edition ?? ls.info?.edition ?? 'unknown';
  const fix =
    'This app needs a licensed LocalStack: MSK (kafka), the Glue schema registry and Kafka event-source mappings ' +
    'are paid features. Start the pro image with LOCALSTACK_AUTH_TOKEN set (`docker compose down && docker compose ' +
    'up -d`), and look for the licence activation line in `docker compose logs localstack`.';
  if (edition === 'community')
    return {
      name,
      status: 'fail',
      detail: 'community edition: no MSK, Glue or Kafka event-source mappings',
      fix,
    };
  if (ls.info?.is_license_activated === false)
    return { name, status: 'fail', detail: `${edition}, but the licence is not activated`, fix };
  if (edition === 'unknown' && ls.info?.is_license_activated === undefined)
    return { name, status: 'warn', detail: 'edition and licence unknown', fix };
  return {
    name,
    status: 'ok',
    detail: `${edition}${ls.info?.is_license_activated ? ', licence activated' : ''}`,
  };
}

/**
 * The LocalStack service of a CloudFormation resource type ([CFN-SERVICE]); custom resources are
 * Lambda-backed (the API calls their handlers make are to services the template's other types
 * already need: kafka for the brokers and topics, ec2 for the prefix list and the default group).
 */
export function serviceOfResourceType(type: string): string | undefined {
  const parts = type.split('::');
  if (parts[0] === 'Custom' || type === 'AWS::CloudFormation::CustomResource') return 'lambda';
  if (parts.length < 3 || parts[0] !== 'AWS') return undefined;
  const service = parts[1] as string;
  const renames: Record<string, string> = {
    MSK: 'kafka',
    Cognito: type.includes('IdentityPool') ? 'cognito-identity' : 'cognito-idp',
    Elasticsearch: 'es',
    OpenSearchService: 'opensearch',
    KinesisFirehose: 'firehose',
    ResourceGroups: 'resource-groups',
    CertificateManager: 'acm',
    ElasticLoadBalancing: 'elb',
    ElasticLoadBalancingV2: 'elbv2',
    ApplicationAutoScaling: 'application-autoscaling',
    Timestream: 'timestream-write',
  };
  return renames[service] ?? service.toLowerCase();
}

/** What `cdklocal bootstrap` and `cdklocal deploy` use besides the templates' resources ([BOOTSTRAP]). */
export const DEPLOY_SERVICES: readonly string[] = ['cloudformation', 'ecr', 'iam', 's3', 'ssm', 'sts'];

/** Every LocalStack service a deploy of these templates needs, sorted. */
export function requiredServices(resourceTypes: readonly string[]): string[] {
  const services = new Set(DEPLOY_SERVICES);
  for (const type of resourceTypes) {
    const service = serviceOfResourceType(type);
    if (service) services.add(service);
  }
  return [...services].sort();
}

const GOOD_STATES = new Set(['available', 'running']);
const BAD_STATES = new Set(['disabled', 'error']);

export function checkServices(ls: LocalStackFacts, required: readonly string[]): CheckResult | undefined {
  if (!ls.health) return undefined;
  const name = 'LocalStack services';
  const states = ls.health.services ?? {};
  const missing = required.filter((s) => states[s] === undefined);
  const disabled = required.filter((s) => states[s] === 'disabled');
  const errored = required.filter((s) => states[s] === 'error');
  const other = required.filter(
    (s) =>
      states[s] !== undefined &&
      !GOOD_STATES.has(states[s] as string) &&
      !BAD_STATES.has(states[s] as string),
  );
  const problems: string[] = [];
  const fixes: string[] = [];
  if (missing.length > 0) {
    problems.push(`${missing.join(', ')} not offered`);
    fixes.push(
      `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in this LocalStack at all: a community image, ` +
        'or a licence that does not include them (MSK and Glue are paid features). Use the pro image with a ' +
        'licence that includes them.',
    );
  }
  if (disabled.length > 0) {
    problems.push(`${disabled.join(', ')} disabled`);
    fixes.push(
      `${disabled.join(', ')}: disabled by LocalStack's SERVICES setting, which loads only the services it lists. ` +
        'Add them to SERVICES, or remove SERVICES, and restart LocalStack.',
    );
  }
  if (errored.length > 0) {
    problems.push(`${errored.join(', ')} failed to start`);
    fixes.push(
      `${errored.join(', ')}: LocalStack could not start ${errored.length === 1 ? 'it' : 'them'}; the reason is in ` +
        '`docker compose logs localstack`. Restart LocalStack after fixing it.',
    );
  }
  if (problems.length > 0)
    return {
      name,
      status: 'fail',
      detail: `${problems.join('; ')} (needed: ${required.join(', ')})`,
      fix: fixes.join('\n'),
    };
  if (other.length > 0)
    return {
      name,
      status: 'warn',
      detail: other.map((s) => `${s} ${states[s]}`).join(', '),
      fix: 'Wait until LocalStack has finished starting (or stopping) them, then run the doctor again.',
    };
  return {
    name,
    status: 'ok',
    detail: `all ${required.length} needed are available: ${required.join(', ')}`,
  };
}

/** The image tag docker-compose.yml gives LocalStack (`image: localstack/<name>[:<tag>][@digest]`). */
export function pinnedImage(compose: string): { image: string; tag: string; digest?: string } | undefined {
  const match =
    /^\s*image:\s*["']?(localstack\/[\w.-]+)(?::([\w.-]+))?(@sha256:[0-9a-f]{64})?["']?\s*(#.*)?$/m.exec(
      compose,
    );
  if (!match) return undefined;
  return { image: match[1] as string, tag: match[2] ?? 'latest', digest: match[3]?.slice(1) };
}

/**
 * A LocalStack version as numbers: `2026.7.5:beafe195a` → [2026, 7, 5]; `4.3.1.dev65` → [4, 3, 1]
 * and pre-release (a dev build comes before its release). Undefined for a tag such as `latest`.
 */
export function parseVersion(version: string): { parts: number[]; dev: boolean } | undefined {
  const match = /^v?(\d+(?:\.\d+)*)(?:[.-]?(dev|rc|a|b)\d*)?/.exec(version.split(':')[0]?.trim() ?? '');
  if (!match) return undefined;
  return { parts: (match[1] as string).split('.').map(Number), dev: match[2] !== undefined };
}

/** Negative when `a` is older than `b`. */
export function compareVersions(a: string, b: string): number | undefined {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return undefined;
  for (let i = 0; i < Math.max(pa.parts.length, pb.parts.length); i++) {
    const d = (pa.parts[i] ?? 0) - (pb.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  return (pa.dev ? -1 : 0) - (pb.dev ? -1 : 0);
}

export function checkVersion(ls: LocalStackFacts, compose: string | undefined): CheckResult {
  const name = 'LocalStack version';
  const running = ls.health?.version ?? ls.info?.version;
  const pin = compose === undefined ? undefined : pinnedImage(compose);
  const moveFix =
    'Pin a LocalStack release in docker-compose.yml (`image: localstack/localstack-pro:<version>`, the versions ' +
    'are listed at https://hub.docker.com/r/localstack/localstack-pro/tags), then `docker compose pull && docker ' +
    'compose up -d`. To move to a newer release later, change the tag, pull, and deploy again.';
  if (!pin)
    return {
      name,
      status: 'warn',
      detail: `running ${running ?? 'unknown'}; docker-compose.yml names no localstack/ image`,
      fix: moveFix,
    };
  if (pin.digest)
    return { name, status: 'ok', detail: `running ${running ?? 'unknown'}; ${pin.image} pinned by digest` };
  if (!parseVersion(pin.tag))
    return {
      name,
      status: 'warn',
      detail: `docker-compose.yml does not pin a version (${pin.image}:${pin.tag}); running ${running ?? 'unknown'}`,
      fix: `"${pin.tag}" changes under you. ${moveFix}`,
    };
  if (!running) return { name, status: 'ok', detail: `docker-compose.yml pins ${pin.image}:${pin.tag}` };
  const order = compareVersions(running, pin.tag);
  if (order !== undefined && order < 0)
    return {
      name,
      status: 'warn',
      detail: `running ${running}, older than the ${pin.tag} docker-compose.yml pins`,
      fix: 'Run the pinned image: `docker compose pull && docker compose up -d` (this recreates the container).',
    };
  if (order !== undefined && order > 0)
    return {
      name,
      status: 'warn',
      detail: `running ${running}, newer than the ${pin.tag} docker-compose.yml pins (not the pinned image?)`,
      fix: 'Either run the pinned image (`docker compose up -d` from this repository) or move the pin to this version.',
    };
  return {
    name,
    status: 'ok',
    detail: `running ${running}, the version docker-compose.yml pins (${pin.tag})`,
  };
}

// ---------------------------------------------------------------------------------------------
// Architecture

/** LAMBDA_IGNORE_ARCHITECTURE is on: LocalStack reads booleans as "1" or "true" (case-insensitive). */
export function isTrue(value: string | boolean | undefined): boolean {
  if (typeof value === 'boolean') return value;
  return value !== undefined && ['1', 'true'].includes(value.trim().toLowerCase());
}

/** The machine of LocalStack's `system` info ("<os>,<release>,<machine>" in recent versions). */
export function machineOfSystem(system: string | undefined): string | undefined {
  const parts = system?.split(',') ?? [];
  return parts.length >= 3 ? parts.at(-1)?.trim() : undefined;
}

export function checkArchitecture(input: {
  readonly hostArch: string;
  readonly override?: FunctionArchitecture;
  readonly dockerArch?: string;
  readonly localstackMachine?: string;
  readonly ignoreArchitecture?: string | boolean;
}): CheckResult {
  const name = 'Function architecture';
  const functions = functionArchitecture('localstack', input.hostArch, input.override);
  const how = input.override ? '-c lambdaArchitecture' : `this machine (${input.hostArch})`;
  const dockerArch = input.dockerArch ?? (input.localstackMachine && normalizeArch(input.localstackMachine));
  if (!dockerArch)
    return {
      name,
      status: 'warn',
      detail: `functions are built for ${functions} (from ${how}); the Docker host's architecture is unknown`,
      fix: 'Make Docker reachable so its architecture can be compared with the functions’.',
    };
  if (dockerArch === functions)
    return { name, status: 'ok', detail: `functions ${functions} (from ${how}), Docker host ${dockerArch}` };
  if (isTrue(input.ignoreArchitecture))
    return {
      name,
      status: 'ok',
      detail: `functions ${functions}, Docker host ${dockerArch}: LocalStack runs with LAMBDA_IGNORE_ARCHITECTURE=1 (the bundles are plain JavaScript)`,
    };
  return {
    name,
    status: 'fail',
    detail: `functions are built for ${functions} (from ${how}) but the Docker host is ${dockerArch}: LocalStack would start them in ${functions} containers, which do not run there without emulation`,
    fix:
      `Deploy with \`-c lambdaArchitecture=${dockerArch}\` (e.g. \`npm run localstack:deploy -- -c lambdaArchitecture=${dockerArch}\`), ` +
      'or start LocalStack with LAMBDA_IGNORE_ARCHITECTURE=1 in its environment.',
  };
}

// ---------------------------------------------------------------------------------------------
// Tools and ports

export function checkNode(version: string, node: DoctorOptions['node']): CheckResult {
  const name = 'Node.js';
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  if (!(major >= node.minimum))
    return {
      name,
      status: 'fail',
      detail: `${version}: aws-cdk-lib needs Node ${node.minimum} or later`,
      fix: `Use Node ${node.recommended} (the version in .nvmrc): \`nvm use\`, or put node_modules/node-linux-*/bin first on PATH.`,
    };
  if (major !== node.recommended)
    return {
      name,
      status: 'warn',
      detail: `${version}; the project uses Node ${node.recommended} (.nvmrc)`,
      fix: `\`nvm use\` switches to Node ${node.recommended}.`,
    };
  return { name, status: 'ok', detail: version };
}

export function checkCdklocal(present: boolean): CheckResult {
  return present
    ? { name: 'cdklocal', status: 'ok', detail: 'node_modules/.bin/cdklocal' }
    : {
        name: 'cdklocal',
        status: 'fail',
        detail: 'node_modules/.bin/cdklocal is missing',
        fix: 'Run `npm ci`: cdklocal comes with the aws-cdk-local dev dependency.',
      };
}

/** LocalStack's service port range (docker-compose.yml publishes it; the MSK broker gets a port there). */
export const SERVICE_PORTS = { first: 4510, last: 4559 } as const;

export function checkPorts(localstackUp: boolean, taken: readonly number[]): CheckResult {
  const name = 'Ports 4566, 4510-4559';
  if (localstackUp) return { name, status: 'ok', detail: 'held by the running LocalStack' };
  if (taken.length === 0) return { name, status: 'ok', detail: 'free' };
  return {
    name,
    status: 'fail',
    detail: `taken by something that is not LocalStack: ${taken.join(', ')}`,
    fix:
      '`docker compose up` cannot publish them. Find the owner (`lsof -i :<port>` or `docker ps`), stop it, ' +
      'or stop an older LocalStack container (`docker ps --filter ancestor=localstack/localstack-pro`).',
  };
}

// ---------------------------------------------------------------------------------------------

/** Reads LocalStack's health (and info), falling back to 127.0.0.1 when the default host does not resolve. */
async function readLocalStack(io: DoctorIo, endpoint: string): Promise<LocalStackFacts> {
  const read = async (base: string) => {
    const health = await io.getJson(`${base}/_localstack/health`);
    if (health.kind === 'unreachable')
      return { error: `${health.code} ${health.message}`.trim(), code: health.code };
    if (health.status !== 200 || typeof health.body !== 'object' || health.body === null)
      return { error: `HTTP ${health.status}, not LocalStack's health answer`, code: 'HTTP' };
    const info = await io.getJson(`${base}/_localstack/info`);
    return {
      health: health.body as LocalStackFacts['health'],
      info:
        info.kind === 'answer' && info.status === 200 ? (info.body as LocalStackFacts['info']) : undefined,
    };
  };
  const first = await read(endpoint);
  if ('health' in first) return { endpoint, ...first };
  const url = new URL(endpoint);
  if (url.hostname === 'localhost.localstack.cloud' && ['ENOTFOUND', 'EAI_AGAIN'].includes(first.code)) {
    const fallback = `${url.protocol}//127.0.0.1:${url.port || '4566'}`;
    const second = await read(fallback);
    if ('health' in second) return { endpoint: fallback, ...second, dnsFallback: true };
    return {
      endpoint,
      error: `${first.error}; and ${fallback} does not answer either (${second.error})`,
    };
  }
  return { endpoint, error: first.error };
}

/** Runs every check. */
export async function runDoctor(io: DoctorIo, options: DoctorOptions): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const docker = parseDockerInfo(await io.dockerInfo());
  checks.push(checkDocker(docker));

  const endpoint = localstackEndpoint(io.env);
  const ls = await readLocalStack(io, endpoint);
  checks.push(checkAuthToken(io.env, ls.info?.is_license_activated));
  checks.push(checkLocalStackUp(ls));
  const edition = checkEdition(ls);
  if (edition) checks.push(edition);

  let resourceTypes: string[] | undefined;
  try {
    resourceTypes = await io.templateResourceTypes({ ...options.context, target: 'localstack' });
  } catch (error) {
    checks.push({
      name: 'LocalStack target',
      status: 'fail',
      detail: `the templates do not synthesize: ${(error as Error).message}`,
      fix: 'Fix the context values named above (docs/deploy.md, "Configuration"), then run the doctor again.',
    });
  }
  if (resourceTypes) {
    const services = checkServices(ls, requiredServices(resourceTypes));
    if (services) checks.push(services);
  }
  checks.push(checkVersion(ls, await io.composeFile()));
  checks.push(
    checkArchitecture({
      hostArch: io.hostArch,
      override: options.context.lambdaArchitecture as FunctionArchitecture | undefined,
      dockerArch: docker.reachable ? docker.architecture : undefined,
      localstackMachine: machineOfSystem(ls.info?.system),
      ignoreArchitecture: ls.health ? await io.lambdaIgnoreArchitecture(ls.endpoint) : undefined,
    }),
  );
  checks.push(checkCdklocal(await io.hasCdklocal()));
  checks.push(checkNode(io.nodeVersion, options.node));
  const taken: number[] = [];
  if (!ls.health)
    for (const port of [4566, ...range(SERVICE_PORTS.first, SERVICE_PORTS.last)])
      if (await io.portInUse(port)) taken.push(port);
  checks.push(checkPorts(ls.health !== undefined, taken));
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗' };

/** The report as printed: one line per check, the fix indented under each ✗ and !, then a summary. */
export function formatReport(report: DoctorReport): string[] {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${MARK[check.status]} ${check.name}: ${check.detail}`);
    if (check.fix && check.status !== 'ok')
      for (const line of check.fix.split('\n')) lines.push(`    fix: ${line}`);
  }
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  lines.push('');
  lines.push(
    report.ok
      ? `${count('ok')} ok, ${count('warn')} warning(s): ready for npm run localstack:deploy`
      : `${count('fail')} problem(s), ${count('warn')} warning(s), ${count('ok')} ok: fix the problems (✗) before npm run localstack:deploy`,
  );
  return lines;
}

/** The LocalStack target's resource types, synthesized in-process without bundling (as cdk would, with cdk.json's context). */
export async function synthesizedResourceTypes(context: Readonly<Record<string, string>>): Promise<string[]> {
  const { readFileSync } = await import('node:fs');
  const { App } = await import('aws-cdk-lib');
  const { loadConfig } = await import('../../lib/config');
  const { addDeployment } = await import('../../lib/stacks/app');
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
  addDeployment(
    app,
    loadConfig((key) => app.node.tryGetContext(key)),
    { nag: false },
  );
  const types = new Set<string>();
  for (const stack of app.synth().stacks)
    for (const resource of Object.values(
      (stack.template.Resources ?? {}) as Record<string, { Type: string }>,
    ))
      types.add(resource.Type);
  return [...types].sort();
}

/** Real I/O: the Docker CLI, HTTP, the CDK app, the files of this repository. */
async function main(): Promise<void> {
  const { execFile } = await import('node:child_process');
  const { existsSync, readFileSync } = await import('node:fs');
  const { readFile } = await import('node:fs/promises');
  const { createServer } = await import('node:net');
  const root = new URL('../../', import.meta.url);
  const context = parseContextArgs(process.argv.slice(2));

  const run = (file: string, args: string[]) =>
    new Promise<{ stdout: string; stderr: string; missing: boolean }>((resolve) => {
      execFile(file, args, { timeout: 15_000 }, (error, stdout, stderr) =>
        resolve({ stdout, stderr, missing: (error as NodeJS.ErrnoException | null)?.code === 'ENOENT' }),
      );
    });
  const getJson = async (url: string): Promise<HttpAnswer> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: left as text
      }
      return { kind: 'answer', status: response.status, body };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return {
        kind: 'unreachable',
        code: cause?.code ?? (error as Error).name,
        message: cause?.message ?? (error as Error).message,
      };
    }
  };
  const engines = JSON.parse(readFileSync(new URL('node_modules/aws-cdk-lib/package.json', root), 'utf8'))
    .engines as { node?: string };
  const nvmrc = existsSync(new URL('.nvmrc', root)) ? readFileSync(new URL('.nvmrc', root), 'utf8') : '24';

  const io: DoctorIo = {
    env: process.env,
    nodeVersion: process.version,
    hostArch: process.arch,
    async dockerInfo() {
      const result = await run('docker', ['info', '--format', 'json']);
      return result.missing ? { kind: 'not-installed' } : { kind: 'output', ...result };
    },
    getJson,
    async lambdaIgnoreArchitecture(endpoint) {
      const config = await getJson(`${endpoint}/_localstack/config`);
      if (config.kind === 'answer' && config.status === 200 && typeof config.body === 'object' && config.body)
        return (config.body as Record<string, string | boolean | undefined>).LAMBDA_IGNORE_ARCHITECTURE;
      const port = new URL(endpoint).port || '4566';
      const ids = (await run('docker', ['ps', '--filter', `publish=${port}`, '--format', '{{.ID}}'])).stdout
        .split('\n')
        .filter(Boolean);
      if (ids.length !== 1) return undefined;
      const env = (await run('docker', ['inspect', '--format', '{{json .Config.Env}}', ids[0] as string]))
        .stdout;
      try {
        const line = (JSON.parse(env) as string[]).find((v) => v.startsWith('LAMBDA_IGNORE_ARCHITECTURE='));
        // Absent from the container's environment: LocalStack's default, off.
        return line ? line.slice(line.indexOf('=') + 1) : false;
      } catch {
        return undefined;
      }
    },
    async composeFile() {
      try {
        return await readFile(new URL('docker-compose.yml', root), 'utf8');
      } catch {
        return undefined;
      }
    },
    async hasCdklocal() {
      return existsSync(new URL('node_modules/.bin/cdklocal', root));
    },
    portInUse: (port) =>
      new Promise((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(true));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
      }),
    templateResourceTypes: synthesizedResourceTypes,
  };
  const report = await runDoctor(io, {
    context,
    node: {
      minimum: Number(/(\d+)/.exec(engines.node ?? '20')?.[1] ?? 20),
      recommended: Number(/(\d+)/.exec(nvmrc)?.[1] ?? 24),
    },
  });
  for (const line of formatReport(report)) console.log(line);
  process.exitCode = report.ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(`localstack:doctor cannot run: ${error.message}`);
    process.exit(2);
  });
}
