/** Lambda entry point of the user-consumer (core/topology.ts): user-events → derived events and dead letters. */
import { consumerHandler } from './handler';

export const handler = consumerHandler('user-consumer');
