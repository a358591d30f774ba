/**
 * What each source event becomes: the data of every derived event, per flow of core/topology.ts.
 * Pure functions, no I/O; `deriversFor` checks that every flow in the topology has one.
 */
import type { DataOf, EventOf, EventType } from '../../schemas/index';

type Deriver<S extends EventType, D extends EventType> = (source: EventOf<S>) => DataOf<D>;

/** For each source event type, for each derived event type, how its data is built. */
type DeriverTable = { [S in EventType]?: { [D in EventType]?: Deriver<S, D> } };

export const derivers: DeriverTable = {
  user_registered: {
    welcome_email_sent: (e) => ({ ...e.data }),
  },
  user_updated: {
    profile_updated: (e) => ({ userId: e.data.userId, changes: { ...e.data.changes } }),
  },
  user_deleted: {
    user_cleanup: (e) => ({ userId: e.data.userId, reason: e.data.reason }),
  },
  order_created: {
    order_confirmation_sent: (e) => ({
      orderId: e.data.orderId,
      userId: e.data.userId,
      itemCount: e.data.items.reduce((n, item) => n + item.quantity, 0),
      totalAmount: e.data.totalAmount,
      currency: e.data.currency,
    }),
  },
  order_updated: {
    order_status_changed: (e) => ({ ...e.data }),
  },
  order_cancelled: {
    order_cancellation_sent: (e) => ({
      orderId: e.data.orderId,
      userId: e.data.userId,
      reason: e.data.note ? `${e.data.reason}: ${e.data.note}`.slice(0, 1000) : e.data.reason,
    }),
  },
  order_paid: {
    fulfillment_requested: (e) => ({
      orderId: e.data.orderId,
      userId: e.data.userId,
      paymentId: e.data.paymentId,
    }),
    order_status_changed: (e) => ({ orderId: e.data.orderId, userId: e.data.userId, status: 'paid' }),
  },
  order_refunded: {
    refund_confirmation_sent: (e) => ({
      orderId: e.data.orderId,
      userId: e.data.userId,
      refundId: e.data.refundId,
      amount: e.data.amount,
      currency: e.data.currency,
    }),
  },
  payment_processed: {
    order_paid: (e) => ({
      orderId: e.data.orderId,
      userId: e.data.userId,
      paymentId: e.data.paymentId,
      amount: e.data.amount,
      currency: e.data.currency,
    }),
  },
  payment_failed: {
    payment_failure_notified: (e) => ({
      paymentId: e.data.paymentId,
      orderId: e.data.orderId,
      userId: e.data.userId,
      failureCode: e.data.failureCode,
      amount: e.data.amount,
      currency: e.data.currency,
    }),
  },
  payment_refunded: {
    order_refunded: (e) => ({
      orderId: e.data.orderId,
      userId: e.data.userId,
      paymentId: e.data.paymentId,
      refundId: e.data.refundId,
      amount: e.data.amount,
      currency: e.data.currency,
    }),
  },
};

/** The deriver of `derived` from `source`, or undefined. */
export function deriverOf(
  source: EventType,
  derived: EventType,
): ((e: EventOf<EventType>) => unknown) | undefined {
  return (derivers[source] as Record<string, (e: EventOf<EventType>) => unknown> | undefined)?.[derived];
}
