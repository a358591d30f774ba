/**
 * Consumer lag per event-source mapping, computed as the local runtime's metrics compute it
 * (`lagOf` below, which local/metrics.ts uses too: records between the group's committed offsets
 * and the end of the topic; the OffsetLag metric Lambda reports for Kafka sources,
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
 */
import type { Admin } from 'kafkajs';
import { consumers } from '../core/topology';
import { existingTopics } from './read';

/** A mapping as far as lag goes: its consumer group and the topic it reads. */
export interface MappingRef {
  readonly name: string;
  readonly groupId: string;
  readonly topic: string;
}

export interface MappingLag extends MappingRef {
  /** Records not yet committed by the group; 0 when the topic does not exist. */
  readonly lag: number;
  readonly topicExists: boolean;
}

/** The mappings of core/topology.ts. */
export const topologyMappings = (): MappingRef[] =>
  consumers.map((c) => ({ name: c.name, groupId: c.mapping.consumerGroupId, topic: c.sourceTopic }));

/** The lag of each mapping. */
export async function mappingLags(
  admin: Admin,
  mappings: readonly MappingRef[] = topologyMappings(),
): Promise<MappingLag[]> {
  const present = await existingTopics(admin);
  return Promise.all(
    mappings.map(async (m) => ({
      ...m,
      topicExists: present.has(m.topic),
      lag: present.has(m.topic) ? await lagOf(admin, m.groupId, m.topic) : 0,
    })),
  );
}

/** A table for a terminal. */
export function formatLags(lags: readonly MappingLag[]): string {
  const rows = [
    ['MAPPING', 'GROUP', 'TOPIC', 'LAG'],
    ...lags.map((l) => [l.name, l.groupId, l.topic, l.topicExists ? String(l.lag) : '(no such topic)']),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  '))
    .join('\n');
}

/** Records between a group's committed offsets and the end of `topic` (uncommitted partitions count from their start). */
export async function lagOf(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic).catch(() => []),
    admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => []),
  ]);
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
  let lag = 0n;
  for (const end of ends) {
    const at = byPartition.get(end.partition);
    const from = at === undefined || at === '-1' ? BigInt(end.low) : BigInt(at);
    lag += BigInt(end.high) > from ? BigInt(end.high) - from : 0n;
  }
  return Number(lag);
}
