/**
 * The catalogue of event contracts: one JSON Schema per event type, the single source of truth that
 * the CDK stack registers in Glue, that Ajv compiles for every runtime check, and that TypeScript
 * types are inferred from.
 */
import type { Static } from '@sinclair/typebox';
import { deadLetter } from './dead-letter';
import {
  fulfillmentRequested,
  orderCancellationSent,
  orderConfirmationSent,
  orderStatusChanged,
  paymentFailureNotified,
  profileUpdated,
  refundConfirmationSent,
  userCleanup,
  welcomeEmailSent,
} from './derived';
import { orderCancelled, orderCreated, orderPaid, orderRefunded, orderUpdated } from './order';
import { paymentFailed, paymentProcessed, paymentRefunded } from './payment';
import { userDeleted, userLogin, userRegistered, userUpdated } from './user';

/** Every event contract, keyed by `eventType`. */
export const eventSchemas = {
  user_registered: userRegistered,
  user_updated: userUpdated,
  user_deleted: userDeleted,
  user_login: userLogin,
  order_created: orderCreated,
  order_updated: orderUpdated,
  order_cancelled: orderCancelled,
  order_paid: orderPaid,
  order_refunded: orderRefunded,
  payment_processed: paymentProcessed,
  payment_failed: paymentFailed,
  payment_refunded: paymentRefunded,
  welcome_email_sent: welcomeEmailSent,
  profile_updated: profileUpdated,
  user_cleanup: userCleanup,
  order_confirmation_sent: orderConfirmationSent,
  order_cancellation_sent: orderCancellationSent,
  order_status_changed: orderStatusChanged,
  fulfillment_requested: fulfillmentRequested,
  payment_failure_notified: paymentFailureNotified,
  refund_confirmation_sent: refundConfirmationSent,
} as const;

/** Name of every contract, events and dead-letter record alike, as registered in Glue. */
export const contractSchemas = { ...eventSchemas, dead_letter: deadLetter } as const;

export type EventType = keyof typeof eventSchemas;
export type ContractName = keyof typeof contractSchemas;

/** The TypeScript type of an event, inferred from its schema. */
export type EventOf<T extends EventType> = Static<(typeof eventSchemas)[T]>;
/** Any event of the catalogue, discriminated by `eventType`. */
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];
/** The `data` of an event. */
export type DataOf<T extends EventType> = EventOf<T>['data'];
/** A dead-letter record, inferred from its schema. */
export type DeadLetter = Static<typeof deadLetter>;

/**
 * Current version of every contract: what producers write in `schemaVersion`. Bump a contract's
 * number together with any change to its schema (docs/architecture.md, "Evolving a contract").
 */
export const contractVersions: Readonly<Record<ContractName, number>> = {
  ...(Object.fromEntries(Object.keys(contractSchemas).map((name) => [name, 1])) as Record<
    ContractName,
    number
  >),
  // 2: the failed record keeps the schema metadata the mapping delivered it with (re-drive).
  dead_letter: 2,
};

/**
 * The schema definition text registered in Glue (`AWS::Glue::Schema` SchemaDefinition) for a contract:
 * plain JSON, without the symbols TypeBox keeps on its objects.
 */
export function schemaDefinition(name: ContractName): string {
  return JSON.stringify(contractSchemas[name]);
}

export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];
