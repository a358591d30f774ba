/**
 * The whole deployment: the stacks of one stage, and the cdk-nag rule packs (AwsSolutions and
 * Serverless) that check them at every synth. cdk-nag v3 runs as a CDK policy-validation plugin
 * (`Validations.of(app).addPlugins`), so an unacknowledged finding fails synthesis; each
 * acknowledgement sits on the construct it concerns, with its reason.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { DeploymentConfig } from '../config';
import { EventsStack, type EventsStackProps } from './events-stack';
import { KafkaStack } from './kafka-stack';
import type { Topology } from './shared';

export interface DeploymentOptions {
  /** @default core/topology.ts */
  readonly topology?: Topology;
  readonly schemaHistory?: EventsStackProps['schemaHistory'];
  /** Register the cdk-nag packs on the app. @default true */
  readonly nag?: boolean;
}

export interface Deployment {
  readonly platform: KafkaStack;
  readonly events: EventsStack;
}

/** Adds the stacks of `config.stage` to `app`: `<stage>-kafka`, then `<stage>-events`. */
export function addDeployment(
  app: App,
  config: DeploymentConfig,
  options: DeploymentOptions = {},
): Deployment {
  const env = config.env.account || config.env.region ? config.env : undefined;
  const tags = { application: 'msk-serverless-events', stage: config.stage };
  const platform = new KafkaStack(app, `${config.stage}-kafka`, {
    config,
    env,
    tags,
    topology: options.topology,
    description: 'Network, Amazon MSK cluster and Kafka topics of the MSK event-processing system.',
  });
  const events = new EventsStack(app, `${config.stage}-events`, {
    config,
    env,
    tags,
    platform,
    topology: options.topology,
    schemaHistory: options.schemaHistory,
    description:
      'Event contracts (Glue Schema Registry), consumers, producer API and observability of the MSK event-processing system.',
  });
  events.addStackDependency(platform);
  if (options.nag ?? true)
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { platform, events };
}
