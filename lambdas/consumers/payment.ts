/** Lambda entry point of the payment-consumer (core/topology.ts): payment-events → derived events and dead letters. */
import type { HandlerOptions } from '../shared/kafka';
import { consumerHandler } from './handler';

export const createHandler = (options?: HandlerOptions) => consumerHandler('payment-consumer', options);
export const handler = createHandler();
