/**
 * Contracts of the events on `order-events`. `order_created`, `order_updated` and `order_cancelled`
 * come from the producer endpoint; `order_paid` and `order_refunded` are derived by the payment
 * consumer from payment events, and drive the order consumer in turn.
 */
import { Type } from '@sinclair/typebox';
import {
  Closed,
  Currency,
  EntityId,
  eventSchema,
  MinorUnits,
  OrderStatus,
  ShortText,
  StringEnum,
} from './common';

const OrderItem = Closed({
  sku: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
  quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
  unitPrice: MinorUnits,
});

export const orderCreated = eventSchema(
  'order_created',
  'A customer placed an order. Amounts are in the currency minor unit.',
  Closed({
    orderId: EntityId,
    userId: EntityId,
    items: Type.Array(OrderItem, { minItems: 1, maxItems: 500 }),
    totalAmount: MinorUnits,
    currency: Currency,
  }),
);

export const orderUpdated = eventSchema(
  'order_updated',
  'An order moved to another status (confirmed, shipped, delivered...).',
  Closed({
    orderId: EntityId,
    userId: EntityId,
    status: OrderStatus,
    previousStatus: Type.Optional(OrderStatus),
  }),
);

export const orderCancelled = eventSchema(
  'order_cancelled',
  'An order was cancelled before fulfilment.',
  Closed({
    orderId: EntityId,
    userId: EntityId,
    reason: StringEnum(['customer_request', 'payment_failed', 'out_of_stock', 'fraud', 'other'] as const),
    note: Type.Optional(ShortText),
  }),
);

export const orderPaid = eventSchema(
  'order_paid',
  'Payment for an order was captured (derived from payment_processed).',
  Closed({
    orderId: EntityId,
    userId: EntityId,
    paymentId: EntityId,
    amount: MinorUnits,
    currency: Currency,
  }),
);

export const orderRefunded = eventSchema(
  'order_refunded',
  'Money was returned to the customer for an order (derived from payment_refunded).',
  Closed({
    orderId: EntityId,
    userId: EntityId,
    paymentId: EntityId,
    refundId: EntityId,
    amount: MinorUnits,
    currency: Currency,
  }),
);
