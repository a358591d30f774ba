/** Lambda entry point of the payment-consumer (core/topology.ts): payment-events → derived events and dead letters. */
import { consumerHandler } from './handler';

export const handler = consumerHandler('payment-consumer');
