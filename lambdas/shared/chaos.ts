/**
 * Fault injection for the resilience tests: with CHAOS_DERIVED_WRITE_FAILURE_RATE set (0 to 1), a
 * consumer's writes of derived events and dead letters fail at that rate, before anything is sent,
 * as an unreachable broker would make them fail. The CDK stack never sets it; unset, the writer is
 * returned as is.
 */
import { KafkaUnavailableError, type KafkaWriter } from './kafka';

export function withInjectedFailures(
  writer: KafkaWriter,
  rate = Number(process.env.CHAOS_DERIVED_WRITE_FAILURE_RATE ?? 0),
): KafkaWriter {
  if (!(rate > 0)) return writer;
  if (rate > 1) throw new Error(`CHAOS_DERIVED_WRITE_FAILURE_RATE must be between 0 and 1, not ${rate}`);
  return {
    send: async (batch) => {
      if (Math.random() < rate)
        throw new KafkaUnavailableError('injected failure (CHAOS_DERIVED_WRITE_FAILURE_RATE)');
      return writer.send(batch);
    },
  };
}
