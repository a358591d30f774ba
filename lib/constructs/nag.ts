/**
 * cdk-nag acknowledgements (v3: `Validations.of(scope).acknowledge`), placed by each construct on
 * the narrowest construct a finding concerns.
 *
 * Wildcard-resource findings (AwsSolutions-IAM5) are reported per resource string, with CloudFormation
 * intrinsics flattened the way cdk-nag flattens them (cdk-nag `utils/flatten-cfn-reference`:
 * `Fn::Join` joined, `Ref` as `<Name>`, `Fn::GetAtt` as `<Name.Attr>`, `${X}` as `<X>`); this module
 * builds the same id from the same token, so an acknowledgement names exactly the resource it allows.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges the cdk-nag finding `id` on `scope` and everything under it. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** A CloudFormation value as cdk-nag prints it in finding ids. */
function flattenForNag(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flattenForNag).join(delimiter);
    }
    if ('Fn::Sub' in node) return flattenForNag(node['Fn::Sub']);
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenForNag(resource)}.${flattenForNag(attribute)}>`;
    }
    if ('Fn::ImportValue' in node) return flattenForNag(node['Fn::ImportValue']);
    if ('Ref' in node) return `<${flattenForNag(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

/** Acknowledges AwsSolutions-IAM5 for the wildcard resource `resource` (a token or literal) on `scope`. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flattenForNag(Stack.of(scope).resolve(resource));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
}
