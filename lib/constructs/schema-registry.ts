/**
 * The Glue Schema Registry holding every event contract: one registry, one `AWS::Glue::Schema` per
 * contract with the definition text from schemas/ (the same text Ajv compiles), data format JSON.
 *
 * CloudFormation accepts `DataFormat: JSON` for AWS::Glue::Schema (allowed values AVRO | JSON |
 * PROTOBUF, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-glue-schema.html;
 * the sentence "Currently only AVRO is supported" on that page predates JSON support, and the
 * resource provider schema cfn-lint validates against lists JSON).
 *
 * Compatibility BACKWARD: Glue refuses a new version that consumers of the previous one could not
 * read, so a breaking contract change fails the deploy instead of breaking consumers
 * (https://docs.aws.amazon.com/glue/latest/dg/schema-registry.html#schema-registry-compatibility).
 *
 * Versions: `SchemaDefinition` of AWS::Glue::Schema is create-only — it is the schema's *first*
 * version, and changing it would replace the schema (which a named schema cannot be). Later versions
 * are `AWS::Glue::SchemaVersion` resources (RegisterSchemaVersion, which "returns an error if new
 * version of schema does not meet the compatibility requirements",
 * https://docs.aws.amazon.com/glue/latest/webapi/API_RegisterSchemaVersion.html). So the construct
 * takes each contract's definition history, oldest first: the first is the schema's definition, each
 * later one a schema version registered after the one before it, and the last must be the current
 * contract.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { CfnRegistry, CfnSchema, CfnSchemaVersion } from 'aws-cdk-lib/aws-glue';
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
   * What happens to the registry, its schemas and their versions when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Every definition each contract has been registered with, oldest first; the last must be its
   * current definition (`schemaDefinition(name)`).
   * @default each contract's current definition only: every contract at its first version
   */
  readonly history?: (name: ContractName) => readonly string[];
}

export class SchemaRegistry extends Construct {
  readonly registry: CfnRegistry;
  /** ARN of the registry (the event-source mappings' schema registry URI). */
  readonly registryArn: string;
  readonly registryName: string;
  /** The Glue schema of each contract. */
  readonly schemas: Readonly<Record<ContractName, CfnSchema>>;
  private readonly currentIds: Readonly<Record<ContractName, string>>;

  constructor(scope: Construct, id: string, props: SchemaRegistryProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const history = props.history ?? ((name: ContractName) => [schemaDefinition(name)]);
    this.registry = new CfnRegistry(this, 'Registry', {
      name: props.registryName,
      description: 'Event contracts of the MSK event-processing system (JSON Schema draft-07).',
    });
    this.registry.applyRemovalPolicy(removalPolicy);
    this.registryArn = this.registry.attrArn;
    this.registryName = props.registryName;

    const schemas = {} as Record<ContractName, CfnSchema>;
    const currentIds = {} as Record<ContractName, string>;
    for (const name of Object.keys(contractSchemas) as ContractName[]) {
      const definitions = history(name);
      const first = definitions[0];
      if (first === undefined) throw new Error(`contract "${name}" has no registered definition`);
      if (definitions.at(-1) !== schemaDefinition(name)) {
        throw new Error(
          `the last registered definition of contract "${name}" is not its current definition: append the current one to its history`,
        );
      }
      const schema = new CfnSchema(this, `Schema-${name}`, {
        name,
        registry: { arn: this.registry.attrArn },
        dataFormat: 'JSON',
        compatibility: props.compatibility ?? 'BACKWARD',
        schemaDefinition: first,
        description: (contractSchemas[name] as { description?: string }).description?.slice(0, 1000),
      });
      schema.applyRemovalPolicy(removalPolicy);
      schemas[name] = schema;

      let currentId = schema.attrInitialSchemaVersionId;
      let previous: CfnSchema | CfnSchemaVersion = schema;
      definitions.slice(1).forEach((definition, i) => {
        const version = new CfnSchemaVersion(this, `Schema-${name}-v${i + 2}`, {
          schema: { schemaArn: schema.attrArn },
          schemaDefinition: definition,
        });
        version.applyRemovalPolicy(removalPolicy);
        // Compatibility is checked against the latest version: register them in order.
        version.addDependency(previous);
        previous = version;
        currentId = version.attrVersionId;
      });
      currentIds[name] = currentId;
    }
    this.schemas = schemas;
    this.currentIds = currentIds;
  }

  /** The Glue schema version id of the contract's current definition (deploy-time value). */
  currentVersionId(name: ContractName): string {
    return this.currentIds[name];
  }
}
