/**
 * The functions' metric names and default namespace: what the handlers publish and what the
 * dashboard and alarms (lib/constructs/observability.ts) read, in one place.
 */

/** CloudWatch namespace of the functions' metrics unless the `metricsNamespace` setting names another. */
export const DEFAULT_METRICS_NAMESPACE = 'MskServerlessEvents';

/** The consumers' per-event-type counts (dimensions service, topic, eventType). */
export const CONSUMER_METRICS = {
  received: 'RecordsReceived',
  processed: 'RecordsProcessed',
  derived: 'DerivedEventsEmitted',
  failed: 'RecordsFailed',
  deadLettered: 'RecordsDeadLettered',
} as const;

/** The producer endpoint's counts (dimension service). */
export const PRODUCER_METRICS = {
  accepted: 'EventsAccepted',
  rejected: 'EventsRejected',
} as const;
