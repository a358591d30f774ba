/**
 * The Glue Schema Registry holding every event contract: one registry, one `AWS::Glue::Schema` per
 * contract with the definition text from schemas/ (the same text Ajv compiles), data format JSON.
 *
 * CloudFormation accepts `DataFormat: JSON` for AWS::Glue::Schema (allowed values AVRO | JSON |
 * PROTOBUF, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-glue-schema.html;
 * the sentence "Currently only AVRO is supported" on that page predates JSON support).
 *
 * Compatibility BACKWARD: Glue refuses a new version that consumers of the previous one could not
 * read, so a breaking contract change fails the deploy instead of breaking consumers
 * (https://docs.aws.amazon.com/glue/latest/dg/schema-registry.html#schema-registry-compatibility).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { type ContractName, contractSchemas, schemaDefinition } from '../../schemas/index';

export interface SchemaRegistryProps {
  /** Registry name. */
  readonly registryName: string;
  /**
   * Glue compatibility mode of every schema.
   * @default 'BACKWARD'
   */
  readonly compatibility?: 'BACKWARD' | 'BACKWARD_ALL' | 'FORWARD' | 'FORWARD_ALL' | 'FULL' | 'FULL_ALL';
  /**
   * What happens to the registry and its schemas when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class SchemaRegistry extends Construct {
  /** ARN of the registry (the event-source mappings' schema registry URI). */
  readonly registryArn: string;
  readonly registryName: string;
  /** The Glue schema of each contract. */
  readonly schemas: Readonly<Record<ContractName, CfnSchema>>;

  constructor(scope: Construct, id: string, props: SchemaRegistryProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const registry = new CfnRegistry(this, 'Registry', {
      name: props.registryName,
      description: 'Event contracts of the MSK event-processing system (JSON Schema draft-07).',
    });
    registry.applyRemovalPolicy(removalPolicy);
    this.registryArn = registry.attrArn;
    this.registryName = props.registryName;

    const schemas = {} as Record<ContractName, CfnSchema>;
    for (const name of Object.keys(contractSchemas) as ContractName[]) {
      const schema = new CfnSchema(this, `Schema-${name}`, {
        name,
        registry: { arn: registry.attrArn },
        dataFormat: 'JSON',
        compatibility: props.compatibility ?? 'BACKWARD',
        schemaDefinition: schemaDefinition(name),
        description: (contractSchemas[name] as { description?: string }).description?.slice(0, 1000),
      });
      schema.applyRemovalPolicy(removalPolicy);
      schemas[name] = schema;
    }
    this.schemas = schemas;
  }
}
