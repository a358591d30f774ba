/** What the stacks share: the topology they are built from, checked once, and the removal policy. */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  type AnalyticsSpec,
  analytics,
  consumers,
  streams,
  TopologyError,
  topics,
} from '../../core/topology';
import { topologyProblems } from '../../core/topology-check';
import type { DeploymentConfig } from '../config';

/** The system's shape, as core/topology.ts exports it; a stack can be given another one in tests. */
export type Topology = NonNullable<Parameters<typeof topologyProblems>[0]> & {
  readonly analytics: AnalyticsSpec;
};

/** core/topology.ts. */
export const defaultTopology: Topology = { topics, consumers, streams, analytics };

/** What is wrong with the analytics sources: each reads and dead-letters topics of the topology. */
function analyticsProblems(topology: Topology): string[] {
  const names = new Set(topology.topics.map((t) => t.name));
  const groups = new Set(topology.consumers.map((c) => c.mapping.consumerGroupId));
  return topology.analytics.sources.flatMap(({ topic, mapping }) => [
    ...(names.has(topic) ? [] : [`analytics source "${topic}": no such topic`]),
    ...(names.has(mapping.onFailureTopic)
      ? []
      : [`analytics source "${topic}": on-failure topic "${mapping.onFailureTopic}" does not exist`]),
    ...(groups.has(mapping.consumerGroupId)
      ? [`analytics source "${topic}": consumer group "${mapping.consumerGroupId}" is a consumer's too`]
      : []),
  ]);
}

/**
 * The topology, or a {@link TopologyError} listing every problem `topologyProblems` finds: synth
 * stops before building anything from an inconsistent topology.
 */
export function checkedTopology(topology: Topology = defaultTopology): Topology {
  const problems = [...topologyProblems(topology), ...analyticsProblems(topology)];
  if (problems.length > 0) throw new TopologyError(problems);
  return topology;
}

/** What happens to stateful resources when their stack is deleted or they leave the template. */
export function statefulRemovalPolicy(config: DeploymentConfig): RemovalPolicy {
  return config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
