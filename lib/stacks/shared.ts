/** What the stacks share: the topology they are built from, checked once, and the removal policy. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { consumers, streams, TopologyError, topics } from '../../core/topology';
import { topologyProblems } from '../../core/topology-check';
import type { DeploymentConfig } from '../config';

/** The system's shape, as core/topology.ts exports it; a stack can be given another one in tests. */
export type Topology = NonNullable<Parameters<typeof topologyProblems>[0]>;

/** core/topology.ts. */
export const defaultTopology: Topology = { topics, consumers, streams };

/**
 * The topology, or a {@link TopologyError} listing every problem `topologyProblems` finds: synth
 * stops before building anything from an inconsistent topology.
 */
export function checkedTopology(topology: Topology = defaultTopology): Topology {
  const problems = topologyProblems(topology);
  if (problems.length > 0) throw new TopologyError(problems);
  return topology;
}

/** What happens to stateful resources when their stack is deleted or they leave the template. */
export function statefulRemovalPolicy(config: DeploymentConfig): RemovalPolicy {
  return config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
