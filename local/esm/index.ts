/**
 * A local Amazon MSK event-source mapping for Lambda handlers, usable by any MSK + Lambda project:
 * give it a handler, a Kafka cluster and the mapping's settings in the Lambda API's names. README.md
 * in this folder documents the API with an example.
 */
export { FilterPatternError, type FilterSpec, MAX_FILTERS, MAX_PATTERN_LENGTH } from './filters';
export { toMskEvent, toMskRecord } from './msk-records';
export {
  type ItemFailures,
  itemFailures,
  LOCAL_CLUSTER_ARN,
  LocalEventSourceMapping,
  type LocalEventSourceMappingOptions,
  MAX_PAYLOAD_BYTES,
  type MappingObserver,
  type MappingState,
  type MskHandler,
  RETRIES_WITH_DESTINATION,
  type SchemaIssue,
  type SchemaRegistry,
  type SchemaVersion,
} from './poller';
export {
  type KafkaSchemaRegistryConfig,
  MappingSettingsError,
  type MskEventSourceMappingSettings,
  type ResolvedSettings,
  resolveSettings,
  type StartingPosition,
} from './settings';
