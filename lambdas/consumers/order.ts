/** Lambda entry point of the order-consumer (core/topology.ts): order-events → derived events and dead letters. */
import { consumerHandler } from './handler';

export const handler = consumerHandler('order-consumer');
