/**
 * The error of ./kafka.ts that callers recognise, in a module without kafkajs: a function that writes
 * to Kafka only now and then (the analytics function: dead letters) can check for it without loading
 * kafkajs at start (lambdas/analytics/handler.ts loads ./kafka.ts at its first write).
 */

/** Kafka did not take the write in time, or could not be reached: retry later. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
}
