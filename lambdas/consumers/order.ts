/** Lambda entry point of the order-consumer (core/topology.ts): order-events → derived events and dead letters. */
import type { HandlerOptions } from '../shared/kafka';
import { consumerHandler } from './handler';

export const createHandler = (options?: HandlerOptions) => consumerHandler('order-consumer', options);
export const handler = createHandler();
