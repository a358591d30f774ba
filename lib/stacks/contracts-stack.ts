/** The event contracts: the Glue Schema Registry, deployed apart from the compute that uses it. */
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { SchemaRegistry } from '../constructs/schema-registry';

export interface ContractsStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

export class ContractsStack extends Stack {
  readonly registry: SchemaRegistry;

  constructor(scope: Construct, id: string, props: ContractsStackProps) {
    super(scope, id, props);
    this.registry = new SchemaRegistry(this, 'SchemaRegistry', {
      registryName: props.config.registryName,
      removalPolicy: props.config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
  }
}
