/**
 * What the functions need to know of the contracts at runtime, without loading their schemas
 * (TypeBox and the schema objects stay out of the function bundles): the event types and each
 * contract's current version, as `npm run contracts` wrote them to schemas/generated/validators.js
 * from schemas/index.ts. A unit test keeps the two in step.
 */
import { eventTypes, contractVersions as versions } from './generated/validators';
import type { ContractName, EventType } from './index';

/** Current version of every contract: what producers write in `schemaVersion`. */
export const contractVersions: Readonly<Record<ContractName, number>> = versions;

const EVENT_TYPES: ReadonlySet<string> = new Set(eventTypes);

/** Whether `value` names an event type (a contract other than dead_letter). */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && EVENT_TYPES.has(value);
}
