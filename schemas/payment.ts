/** Contracts of the events on `payment-events`, written by the producer endpoint. */
import { Type } from '@sinclair/typebox';
import {
  Closed,
  Code,
  Currency,
  EntityId,
  eventSchema,
  MinorUnits,
  PaymentMethod,
  ShortText,
} from './common';

/** What every payment attempt records. */
const attempt = {
  paymentId: EntityId,
  orderId: EntityId,
  userId: EntityId,
  amount: MinorUnits,
  currency: Currency,
  method: PaymentMethod,
};

export const paymentProcessed = eventSchema(
  'payment_processed',
  'A payment for an order was captured.',
  Closed(attempt),
);

export const paymentFailed = eventSchema(
  'payment_failed',
  'A payment attempt for an order was declined or errored.',
  Closed({ ...attempt, failureCode: Code, failureMessage: Type.Optional(ShortText) }),
);

export const paymentRefunded = eventSchema(
  'payment_refunded',
  'All or part of a captured payment was returned to the customer.',
  Closed({
    paymentId: EntityId,
    refundId: EntityId,
    orderId: EntityId,
    userId: EntityId,
    amount: MinorUnits,
    currency: Currency,
    reason: Type.Optional(ShortText),
  }),
);
