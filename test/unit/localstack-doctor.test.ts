/**
 * `npm run localstack:doctor` (scripts/localstack/doctor.ts) against recorded and published LocalStack
 * and Docker answers (test/fixtures/localstack/README.md names the source of each): every problem it
 * knows is detected, with its fix, and a healthy setup passes. One test synthesizes the LocalStack
 * target to check that the services the doctor asks for are the ones the templates use.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  DEPLOY_SERVICES,
  type DockerInfoAnswer,
  type DoctorIo,
  type DoctorReport,
  formatReport,
  type HttpAnswer,
  parseContextArgs,
  pinnedImage,
  requiredServices,
  runDoctor,
  serviceOfResourceType,
  synthesizedResourceTypes,
} from '../../scripts/localstack/doctor';
import { localstackEndpoint } from '../../scripts/localstack/endpoint';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/localstack/doctor/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(fixture(name));

type Health = { services: Record<string, string>; edition?: string; version: string };
const healthPro = (): Health => json('health-pro-2026.7.5.json');
const infoPro = () => json('info-pro-2026.7.5.json');
const dockerX86: DockerInfoAnswer = {
  kind: 'output',
  stdout: fixture('docker-info-x86_64.json'),
  stderr: '',
};
const dockerArm: DockerInfoAnswer = {
  kind: 'output',
  stdout: fixture('docker-info-aarch64.json'),
  stderr: '',
};
const dockerDown: DockerInfoAnswer = {
  kind: 'output',
  stdout: fixture('docker-info-daemon-down.stdout.json'),
  stderr: fixture('docker-info-daemon-down.stderr.txt'),
};

/** The LocalStack target's resource types at this commit without Glue (the synth test checks the real list). */
const TYPES = [
  'AWS::ApiGateway::Account',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Stage',
  'AWS::CloudWatch::Alarm',
  'AWS::DynamoDB::Table',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::Subnet',
  'AWS::EC2::VPC',
  'AWS::EC2::VPCEndpoint',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::KMS::Key',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::Function',
  'AWS::Logs::LogGroup',
  'AWS::MSK::Cluster',
  'Custom::KafkaTopics',
];
const GLUE_TYPES = ['AWS::Glue::Registry', 'AWS::Glue::Schema'];

const PINNED = `services:\n  localstack:\n    image: localstack/localstack-pro:2026.7.5\n`;
/** A short value: the repository's secret scan must not take the test for a real token. */
const TOKEN = 'ls-FAKE.doctor';

interface Setup {
  docker?: DockerInfoAnswer;
  health?: HttpAnswer;
  info?: HttpAnswer;
  env?: Record<string, string | undefined>;
  hostArch?: string;
  ignoreArchitecture?: string | boolean;
  compose?: string;
  cdklocal?: boolean;
  nodeVersion?: string;
  takenPorts?: number[];
  /** Hosts that do not resolve. */
  unresolvable?: string[];
}

const answer = (body: unknown, status = 200): HttpAnswer => ({ kind: 'answer', status, body });
const refused: HttpAnswer = { kind: 'unreachable', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' };

function fakeIo(setup: Setup = {}) {
  const requested: string[] = [];
  const synthContexts: Record<string, string>[] = [];
  const io: DoctorIo = {
    env: setup.env ?? { LOCALSTACK_AUTH_TOKEN: TOKEN },
    nodeVersion: setup.nodeVersion ?? 'v24.21.0',
    hostArch: setup.hostArch ?? 'x64',
    dockerInfo: async () => setup.docker ?? dockerX86,
    async getJson(url) {
      requested.push(url);
      const { hostname, pathname } = new URL(url);
      if (setup.unresolvable?.includes(hostname))
        return { kind: 'unreachable', code: 'ENOTFOUND', message: `getaddrinfo ENOTFOUND ${hostname}` };
      if (pathname === '/_localstack/health') return setup.health ?? answer(healthPro());
      if (pathname === '/_localstack/info') return setup.info ?? answer(infoPro());
      return answer('not found', 404);
    },
    lambdaIgnoreArchitecture: async () => setup.ignoreArchitecture,
    composeFile: async () => setup.compose ?? PINNED,
    hasCdklocal: async () => setup.cdklocal ?? true,
    portInUse: async (port) => setup.takenPorts?.includes(port) ?? false,
    async templateResourceTypes(context) {
      synthContexts.push({ ...context });
      return context.localstackGlue === 'true' ? [...TYPES, ...GLUE_TYPES] : TYPES;
    },
  };
  return { io, requested, synthContexts };
}

const NODE = { minimum: 20, recommended: 24 };
const doctor = (setup: Setup = {}, context: Record<string, string> = {}) =>
  runDoctor(fakeIo(setup).io, { context, node: NODE });
const check = (report: DoctorReport, name: string) => {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}" in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
};

describe('localstack:doctor, against recorded answers', () => {
  it('passes a healthy setup: Docker on x86_64, licensed LocalStack 2026.7.5 with every service, pinned image', async () => {
    const report = await doctor();
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'Docker',
      'LOCALSTACK_AUTH_TOKEN',
      'LocalStack',
      'LocalStack edition',
      'LocalStack services',
      'LocalStack version',
      'Function architecture',
      'cdklocal',
      'Node.js',
      'Ports 4566, 4510-4559',
    ]);
    expect(check(report, 'Docker').detail).toBe('Docker 28.2.2, linux/x86_64');
    expect(check(report, 'LocalStack edition').detail).toBe('pro, licence activated');
    expect(check(report, 'LocalStack services').detail).toContain('kafka');
    expect(check(report, 'LocalStack version').detail).toContain('running 2026.7.5');
    const lines = formatReport(report);
    expect(lines.filter((l) => l.startsWith('✓'))).toHaveLength(10);
    expect(lines.at(-1)).toMatch(/^10 ok, 0 warning\(s\): ready for npm run localstack:deploy$/);
  });

  it('never prints the auth token', async () => {
    const lines = formatReport(await doctor({ env: { LOCALSTACK_AUTH_TOKEN: TOKEN } }));
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(lines).toContain('✓ LOCALSTACK_AUTH_TOKEN: set (not shown)');
  });

  it('reports Docker not installed, with the install link', async () => {
    const report = await doctor({ docker: { kind: 'not-installed' } });
    expect(check(report, 'Docker')).toMatchObject({
      status: 'fail',
      detail: 'the docker command is not installed',
    });
    expect(check(report, 'Docker').fix).toContain('https://docs.docker.com/get-started/get-docker/');
    expect(report.ok).toBe(false);
  });

  it('reports a Docker daemon that is down (recorded CLI 28.2.2 output), and still compares architectures through LocalStack’s info', async () => {
    const report = await doctor({ docker: dockerDown });
    expect(check(report, 'Docker').status).toBe('fail');
    expect(check(report, 'Docker').detail).toBe(
      'not reachable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    );
    expect(check(report, 'Docker').fix).toContain('Start Docker');
    // info's system ends in the machine: x86_64, as this (x64) machine builds for.
    expect(check(report, 'Function architecture').status).toBe('ok');
  });

  it('reports the older CLIs’ ServerErrors, and Windows containers', async () => {
    const serverErrors = await doctor({
      docker: {
        kind: 'output',
        stdout: JSON.stringify({ ServerErrors: ['error during connect: boom'] }),
        stderr: '',
      },
    });
    expect(check(serverErrors, 'Docker').detail).toBe('not reachable: error during connect: boom');
    const windows = await doctor({
      docker: {
        kind: 'output',
        stdout: JSON.stringify({ ...JSON.parse(fixture('docker-info-x86_64.json')), OSType: 'windows' }),
        stderr: '',
      },
    });
    expect(check(windows, 'Docker')).toMatchObject({ status: 'fail' });
    expect(check(windows, 'Docker').fix).toContain('Linux containers');
  });

  it('reports a missing LOCALSTACK_AUTH_TOKEN as a problem, and as a warning when the running LocalStack is licensed anyway', async () => {
    const down = await doctor({ env: {}, health: refused });
    expect(check(down, 'LOCALSTACK_AUTH_TOKEN')).toMatchObject({ status: 'fail', detail: 'not set' });
    expect(check(down, 'LOCALSTACK_AUTH_TOKEN').fix).toContain('export LOCALSTACK_AUTH_TOKEN=');
    expect(check(down, 'LOCALSTACK_AUTH_TOKEN').fix).toContain('paid tiers');
    const licensed = await doctor({ env: {} });
    expect(check(licensed, 'LOCALSTACK_AUTH_TOKEN').status).toBe('warn');
    expect(licensed.ok).toBe(true);
  });

  it('reports LocalStack unreachable with how to start it, skips what needs it, and checks the ports are free', async () => {
    const report = await doctor({ health: refused });
    expect(check(report, 'LocalStack')).toMatchObject({
      status: 'fail',
      detail:
        'no answer from http://localhost.localstack.cloud:4566/_localstack/health: ECONNREFUSED connect ECONNREFUSED',
    });
    expect(check(report, 'LocalStack').fix).toContain('docker compose up -d');
    expect(report.checks.map((c) => c.name)).not.toContain('LocalStack services');
    expect(report.checks.map((c) => c.name)).not.toContain('LocalStack edition');
    expect(check(report, 'Ports 4566, 4510-4559')).toMatchObject({ status: 'ok', detail: 'free' });
    expect(report.ok).toBe(false);
  });

  it('reports ports taken by something else when LocalStack is not answering', async () => {
    const report = await doctor({ health: refused, takenPorts: [4566, 4511] });
    expect(check(report, 'Ports 4566, 4510-4559')).toMatchObject({
      status: 'fail',
      detail: 'taken by something that is not LocalStack: 4566, 4511',
    });
    // With LocalStack up, the ports are its own.
    expect(check(await doctor({ takenPorts: [4566, 4511] }), 'Ports 4566, 4510-4559').status).toBe('ok');
  });

  it('reports an answer that is not LocalStack’s health', async () => {
    const report = await doctor({ health: answer('<html>nginx</html>', 404) });
    expect(check(report, 'LocalStack').detail).toContain("HTTP 404, not LocalStack's health answer");
  });

  it('reports a service that is disabled (SERVICES), failed, or not offered, each with its fix', async () => {
    const disabled = healthPro(); // variant: one field changed
    disabled.services.lambda = 'disabled';
    const d = check(await doctor({ health: answer(disabled) }), 'LocalStack services');
    expect(d.status).toBe('fail');
    expect(d.detail).toMatch(/^lambda disabled \(needed: /);
    expect(d.fix).toContain('SERVICES');

    const errored = healthPro(); // variant
    errored.services.kafka = 'error';
    const e = check(await doctor({ health: answer(errored) }), 'LocalStack services');
    expect(e.detail).toMatch(/^kafka failed to start/);
    expect(e.fix).toContain('docker compose logs localstack');

    const missing = healthPro(); // variant
    delete missing.services.kafka;
    const m = check(await doctor({ health: answer(missing) }), 'LocalStack services');
    expect(m.detail).toMatch(/^kafka not offered/);
    expect(m.fix).toContain('paid features');

    const starting = healthPro(); // variant
    starting.services.ec2 = 'starting';
    const s = check(await doctor({ health: answer(starting) }), 'LocalStack services');
    expect(s).toMatchObject({ status: 'warn', detail: 'ec2 starting' });
    // "running" is as good as "available".
    const running = healthPro(); // variant
    running.services.lambda = 'running';
    expect(check(await doctor({ health: answer(running) }), 'LocalStack services').status).toBe('ok');
  });

  it('reports an old community LocalStack (0.13.2, PR #5157): no kafka, and no licence', async () => {
    const report = await doctor({
      health: answer(json('health-0.13.2.json')),
      info: answer(json('info-community-3.7.3.json')),
    });
    const services = check(report, 'LocalStack services');
    expect(services.status).toBe('fail');
    expect(services.detail).toMatch(/^ecr, kafka not offered/);
    expect(check(report, 'LocalStack edition')).toMatchObject({
      status: 'fail',
      detail: 'community edition: no MSK, Glue or Kafka event-source mappings',
    });
    expect(check(report, 'LocalStack version')).toMatchObject({
      status: 'warn',
      detail: 'running 0.13.2, older than the 2026.7.5 docker-compose.yml pins',
    });
  });

  it('reports a pro edition whose licence is not activated', async () => {
    const info = { ...infoPro(), is_license_activated: false }; // variant
    const edition = check(await doctor({ info: answer(info) }), 'LocalStack edition');
    expect(edition).toMatchObject({ status: 'fail', detail: 'pro, but the licence is not activated' });
    expect(edition.fix).toContain('LOCALSTACK_AUTH_TOKEN');
  });

  it('requires glue only when -c localstackGlue=true turns the Glue registry on', async () => {
    const noGlue = healthPro(); // variant
    delete noGlue.services.glue;
    const { io, synthContexts } = fakeIo({ health: answer(noGlue) });
    const off = await runDoctor(io, { context: {}, node: NODE });
    expect(check(off, 'LocalStack services').status).toBe('ok');
    expect(check(off, 'LocalStack services').detail).not.toContain('glue');
    const on = await runDoctor(io, { context: { localstackGlue: 'true' }, node: NODE });
    expect(check(on, 'LocalStack services')).toMatchObject({ status: 'fail' });
    expect(check(on, 'LocalStack services').detail).toMatch(/^glue not offered/);
    // The templates are synthesized for the LocalStack target with the context given.
    expect(synthContexts).toEqual([
      { target: 'localstack' },
      { localstackGlue: 'true', target: 'localstack' },
    ]);
  });

  it('reports templates that do not synthesize with the context given', async () => {
    const { io } = fakeIo();
    const report = await runDoctor(
      {
        ...io,
        templateResourceTypes: async () => {
          throw new Error('invalid deployment configuration:\n- stage "X" must be …');
        },
      },
      { context: { stage: 'X' }, node: NODE },
    );
    expect(check(report, 'LocalStack target').status).toBe('fail');
    expect(report.ok).toBe(false);
  });

  it('reports arm64 functions on an x86_64 Docker host, with both fixes', async () => {
    const report = await doctor({ hostArch: 'arm64', docker: dockerX86 });
    const arch = check(report, 'Function architecture');
    expect(arch.status).toBe('fail');
    expect(arch.detail).toContain('functions are built for arm64');
    expect(arch.detail).toContain('the Docker host is x86_64');
    expect(arch.fix).toContain('-c lambdaArchitecture=x86_64');
    expect(arch.fix).toContain('LAMBDA_IGNORE_ARCHITECTURE=1');
    // x86_64 functions (an x64 machine running cdk) on Docker Desktop on Apple silicon.
    const other = check(await doctor({ hostArch: 'x64', docker: dockerArm }), 'Function architecture');
    expect(other.status).toBe('fail');
    expect(other.fix).toContain('-c lambdaArchitecture=arm64');
  });

  it('accepts the architecture mismatch when LocalStack runs with LAMBDA_IGNORE_ARCHITECTURE=1, or -c lambdaArchitecture fits the Docker host', async () => {
    for (const value of ['1', 'true', true] as const)
      expect(
        check(await doctor({ hostArch: 'arm64', ignoreArchitecture: value }), 'Function architecture').status,
      ).toBe('ok');
    expect(
      check(await doctor({ hostArch: 'arm64', ignoreArchitecture: '0' }), 'Function architecture').status,
    ).toBe('fail');
    const overridden = check(
      await doctor({ hostArch: 'arm64' }, { lambdaArchitecture: 'x86_64' }),
      'Function architecture',
    );
    expect(overridden).toMatchObject({ status: 'ok' });
    expect(overridden.detail).toContain('-c lambdaArchitecture');
  });

  it('warns when LocalStack is older than the pinned version, or the image is not pinned', async () => {
    const older = healthPro(); // variant
    older.version = '2026.3.1.dev65';
    const version = check(
      await doctor({ health: answer(older), info: answer({ ...infoPro(), version: '2026.3.1.dev65' }) }),
      'LocalStack version',
    );
    expect(version).toMatchObject({
      status: 'warn',
      detail: 'running 2026.3.1.dev65, older than the 2026.7.5 docker-compose.yml pins',
    });
    expect(version.fix).toContain('docker compose pull');

    const latest = check(
      await doctor({ compose: 'services:\n  localstack:\n    image: localstack/localstack-pro:latest\n' }),
      'LocalStack version',
    );
    expect(latest).toMatchObject({ status: 'warn' });
    expect(latest.detail).toContain('does not pin a version (localstack/localstack-pro:latest)');
    expect(latest.fix).toContain('"latest" changes under you');

    const untagged = check(
      await doctor({ compose: 'services:\n  localstack:\n    image: "localstack/localstack"\n' }),
      'LocalStack version',
    );
    expect(untagged.detail).toContain('localstack/localstack:latest');
  });

  it('reads the pinned tag generically and orders LocalStack versions', () => {
    expect(pinnedImage('    image: localstack/localstack-pro:4.12.0 # pinned')).toEqual({
      image: 'localstack/localstack-pro',
      tag: '4.12.0',
      digest: undefined,
    });
    expect(pinnedImage(`image: localstack/localstack:2026.7@sha256:${'a'.repeat(64)}`)?.digest).toBe(
      `sha256:${'a'.repeat(64)}`,
    );
    expect(pinnedImage('image: redis:7')).toBeUndefined();
    expect(compareVersions('2026.7.5:beafe195a', '2026.7.5')).toBe(0);
    expect(compareVersions('2026.7', '2026.7.0')).toBe(0);
    expect(compareVersions('2026.3.1.dev65', '2026.3.1')).toBeLessThan(0);
    expect(compareVersions('4.12.0', '2026.3.0')).toBeLessThan(0);
    expect(compareVersions('2026.10.0', '2026.9.1')).toBeGreaterThan(0);
    expect(compareVersions('latest', '2026.3.0')).toBeUndefined();
  });

  it('honours AWS_ENDPOINT_URL and LOCALSTACK_HOST, and falls back to 127.0.0.1 when localhost.localstack.cloud does not resolve', async () => {
    expect(localstackEndpoint({})).toBe('http://localhost.localstack.cloud:4566');
    expect(localstackEndpoint({ LOCALSTACK_HOST: 'ls.internal' })).toBe('http://ls.internal:4566');
    expect(localstackEndpoint({ LOCALSTACK_HOST: 'ls.internal:4567', AWS_ENDPOINT_URL: 'http://x:1/' })).toBe(
      'http://x:1',
    );
    const custom = fakeIo({
      env: { LOCALSTACK_AUTH_TOKEN: TOKEN, AWS_ENDPOINT_URL: 'http://127.0.0.1:4599' },
    });
    const report = await runDoctor(custom.io, { context: {}, node: NODE });
    expect(custom.requested[0]).toBe('http://127.0.0.1:4599/_localstack/health');
    expect(check(report, 'LocalStack').detail).toBe('up at http://127.0.0.1:4599 (2026.7.5)');

    const dns = fakeIo({ unresolvable: ['localhost.localstack.cloud'] });
    const fallback = await runDoctor(dns.io, { context: {}, node: NODE });
    expect(dns.requested).toContain('http://127.0.0.1:4566/_localstack/health');
    expect(check(fallback, 'LocalStack').status).toBe('warn');
    expect(check(fallback, 'LocalStack').fix).toContain('DNS');
    expect(check(fallback, 'LocalStack services').status).toBe('ok');

    const neither = await doctor({ unresolvable: ['localhost.localstack.cloud'], health: refused });
    expect(check(neither, 'LocalStack').detail).toBe(
      'no answer from http://localhost.localstack.cloud:4566/_localstack/health: ENOTFOUND getaddrinfo ENOTFOUND ' +
        'localhost.localstack.cloud; and http://127.0.0.1:4566 does not answer either (ECONNREFUSED connect ECONNREFUSED)',
    );
  });

  it('reports a missing cdklocal and an unsupported Node', async () => {
    const report = await doctor({ cdklocal: false, nodeVersion: 'v18.20.4' });
    expect(check(report, 'cdklocal').fix).toContain('npm ci');
    expect(check(report, 'Node.js')).toMatchObject({ status: 'fail' });
    expect(check(await doctor({ nodeVersion: 'v22.11.0' }), 'Node.js').status).toBe('warn');
  });

  it('prints the fix under each problem, and a summary that says to fix them', async () => {
    const lines = formatReport(await doctor({ docker: { kind: 'not-installed' }, health: refused, env: {} }));
    const dockerLine = lines.indexOf('✗ Docker: the docker command is not installed');
    expect(dockerLine).toBeGreaterThanOrEqual(0);
    expect(lines[dockerLine + 1]).toMatch(/^ {4}fix: Install Docker/);
    expect(lines.at(-1)).toMatch(/^3 problem\(s\), \d+ warning\(s\), \d+ ok: fix the problems \(✗\)/);
  });

  it('parses -c key=value like cdk, and rejects anything else clearly', () => {
    expect(
      parseContextArgs(['-c', 'localstackGlue=true', '--context', 'stage=dev', '--context=a=b=c']),
    ).toEqual({
      localstackGlue: 'true',
      stage: 'dev',
      a: 'b=c',
    });
    expect(() => parseContextArgs(['--glue'])).toThrow('unexpected argument "--glue"');
    expect(() => parseContextArgs(['-c'])).toThrow('-c needs key=value, got nothing');
    expect(() => parseContextArgs(['-c', 'novalue'])).toThrow('-c needs key=value, got "novalue"');
    expect(() => parseContextArgs(['-c', 'target=aws'])).toThrow('LocalStack target only');
    expect(() => parseContextArgs(['-c', 'lambdaArchitecture=arm'])).toThrow('use arm64 or x86_64');
  });
});

describe('the services the doctor requires', () => {
  it('are the ones the synthesized LocalStack templates use, all offered by the recorded pro LocalStack', async () => {
    const types = await synthesizedResourceTypes({ target: 'localstack' });
    const services = requiredServices(types);
    for (const s of ['apigateway', 'cloudwatch', 'dynamodb', 'ec2', 'iam', 'kafka', 'kms', 'lambda', 'logs'])
      expect(services).toContain(s);
    for (const type of types) expect(serviceOfResourceType(type), type).toBeDefined();
    // Glue is needed exactly when the templates have Glue resources (with -c localstackGlue=true).
    expect(services.includes('glue')).toBe(types.some((t) => t.startsWith('AWS::Glue::')));
    const offered = healthPro().services;
    expect(services.filter((s) => offered[s] === undefined)).toEqual([]);
  }, 60_000);

  it('cover what cdklocal bootstrap creates (CDK’s bootstrap template, unconditional resources)', () => {
    const template = readFileSync(
      new URL('../../node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml', import.meta.url),
      'utf8',
    );
    const resources = (template.split(/^Resources:\n/m)[1] ?? '').split(/^Outputs:/m)[0] ?? '';
    const blocks = resources.split(/^ {2}(?=[A-Za-z])/m).filter((b) => /^\s{4}Type:/m.test(b));
    expect(blocks.length).toBeGreaterThan(5);
    const unconditional = blocks
      .filter((b) => !/^ {4}Condition:/m.test(b))
      .map((b) => /^ {4}Type:\s*'?([A-Za-z0-9:]+)'?/m.exec(b)?.[1] as string);
    expect(unconditional).toContain('AWS::ECR::Repository');
    for (const type of unconditional) expect(DEPLOY_SERVICES, type).toContain(serviceOfResourceType(type));
  });
});
