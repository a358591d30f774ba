/**
 * The consumers' per-event-type metrics: for each (source topic, event type) a batch touched, one EMF
 * line with its nonzero counts (RecordsReceived, RecordsProcessed, DerivedEventsEmitted,
 * RecordsFailed, RecordsDeadLettered), dimensions service, topic and eventType.
 *
 * One Powertools `Metrics` per event type, created at its first batch and kept: the counts of an
 * event type share a dimension set, so they go out in one line. (`singleMetric()` per count, the
 * obvious alternative, builds a new `Metrics`, reading its environment, for every count of every
 * batch: 6 % of the consumer path's CPU in the benchmark.)
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CONSUMER_METRICS } from '../../core/metrics';
import type { BatchCounts } from './consumer';

const METRIC_NAMES = CONSUMER_METRICS;

/** Publishes a batch's counts, for the consumer of `topic`; `options` as the function's `Metrics`. */
export function batchMetrics(
  topic: string,
  options: { readonly serviceName: string; readonly namespace: string },
): (counts: BatchCounts) => void {
  const byEventType = new Map<string, Metrics>();
  return (counts) => {
    for (const [eventType, outcome] of counts) {
      let metrics = byEventType.get(eventType);
      if (!metrics) {
        metrics = new Metrics({ ...options, defaultDimensions: { topic, eventType } });
        byEventType.set(eventType, metrics);
      }
      let added = false;
      for (const [key, name] of Object.entries(METRIC_NAMES) as [keyof typeof METRIC_NAMES, string][]) {
        if (outcome[key] === 0) continue;
        metrics.addMetric(name, MetricUnit.Count, outcome[key]);
        added = true;
      }
      if (added) metrics.publishStoredMetrics();
    }
  };
}
