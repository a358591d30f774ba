/**
 * Contracts of the events the consumers derive for downstream services: e-mail, notifications,
 * clean-up and fulfilment. The first three flows come from the reference guide's stream processor
 * (user_registered → welcome_email_sent, user_updated → profile_updated, user_deleted → user_cleanup);
 * the order and payment ones complete an e-commerce flow. docs/architecture.md ("Event flows") has the full table.
 */
import { Type } from '@sinclair/typebox';
import {
  Closed,
  Code,
  Currency,
  DeletionReason,
  EntityId,
  eventSchema,
  MinorUnits,
  OrderStatus,
  ShortText,
} from './common';
import { ProfileChange, RegisteredUser } from './user';

export const welcomeEmailSent = eventSchema(
  'welcome_email_sent',
  'Asks the e-mail service to send the welcome message to a newly registered user.',
  RegisteredUser,
);

export const profileUpdated = eventSchema(
  'profile_updated',
  'Tells the notification service that a user profile changed, with the new values.',
  ProfileChange,
);

export const userCleanup = eventSchema(
  'user_cleanup',
  "Asks every service holding a deleted user's data to erase it.",
  Closed({ userId: EntityId, reason: DeletionReason }),
);

export const orderConfirmationSent = eventSchema(
  'order_confirmation_sent',
  'Asks the e-mail service to confirm a new order to the customer.',
  Closed({
    orderId: EntityId,
    userId: EntityId,
    itemCount: Type.Integer({ minimum: 1 }),
    totalAmount: MinorUnits,
    currency: Currency,
  }),
);

export const orderCancellationSent = eventSchema(
  'order_cancellation_sent',
  'Asks the e-mail service to tell the customer their order was cancelled.',
  Closed({ orderId: EntityId, userId: EntityId, reason: ShortText }),
);

export const orderStatusChanged = eventSchema(
  'order_status_changed',
  'Tells the notification service that an order changed status.',
  Closed({
    orderId: EntityId,
    userId: EntityId,
    status: OrderStatus,
    previousStatus: Type.Optional(OrderStatus),
  }),
);

export const fulfillmentRequested = eventSchema(
  'fulfillment_requested',
  'Asks the warehouse to pick, pack and ship a paid order.',
  Closed({ orderId: EntityId, userId: EntityId, paymentId: EntityId }),
);

export const paymentFailureNotified = eventSchema(
  'payment_failure_notified',
  'Tells the notification service to ask the customer to retry a declined payment.',
  Closed({
    paymentId: EntityId,
    orderId: EntityId,
    userId: EntityId,
    failureCode: Code,
    amount: MinorUnits,
    currency: Currency,
  }),
);

export const refundConfirmationSent = eventSchema(
  'refund_confirmation_sent',
  'Asks the e-mail service to confirm a refund to the customer.',
  Closed({ orderId: EntityId, userId: EntityId, refundId: EntityId, amount: MinorUnits, currency: Currency }),
);
