/** Lambda entry point of the user-consumer (core/topology.ts): user-events → derived events and dead letters. */
import type { HandlerOptions } from '../shared/kafka';
import { consumerHandler } from './handler';

export const createHandler = (options?: HandlerOptions) => consumerHandler('user-consumer', options);
export const handler = createHandler();
