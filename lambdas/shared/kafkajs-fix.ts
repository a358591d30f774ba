/**
 * Works around kafkajs 2.2.4's idle timer loop (tulios/kafkajs#1751, fix proposed in #1755/#1768 and
 * never released). `RequestQueue.scheduleCheckPendingRequests` computes `throttledUntil - Date.now()`,
 * which is hugely negative when the broker never throttled (`throttledUntil` is -1). With no request
 * pending it still calls `setTimeout` with that delay, which Node clamps to 1 ms (and, from Node 24,
 * reports as a `TimeoutNegativeWarning`); the callback schedules itself again, so every idle broker
 * connection wakes the event loop 1,000 times a second for as long as it lives.
 *
 * The replacement keeps the original behaviour when throttled or when requests are pending, and does
 * nothing when there is nothing to wait for (the queue is checked again whenever a request is
 * fulfilled). Importing this module applies the fix once; every kafkajs client in this project is
 * created after importing it (lambdas/shared and local/ import it first).
 */
// kafkajs has no `exports` map, so its internal module can be imported by path.
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/** Same constant as kafkajs' requestQueue/index.js. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const proto = (RequestQueue as unknown as { prototype: RequestQueueInternals }).prototype;
if (typeof proto?.scheduleCheckPendingRequests !== 'function') {
  throw new Error(
    'kafkajs internals changed: RequestQueue.scheduleCheckPendingRequests is gone; revisit lambdas/shared/kafkajs-fix.ts',
  );
}

proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals) {
  if (this.throttleCheckTimeoutId) return;
  let delay = this.throttledUntil - Date.now();
  if (this.pending.length > 0) delay = delay > 0 ? delay : CHECK_PENDING_REQUESTS_INTERVAL;
  else if (delay <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
};

/** Marker so callers can assert the fix is loaded. */
export const KAFKAJS_IDLE_LOOP_FIXED = true;
