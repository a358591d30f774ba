/**
 * Fault injection for the resilience tests: a writer whose sends fail at random, before anything is
 * sent, as an unreachable broker makes them fail (`KafkaUnavailableError`, which the consumers treat
 * as "retry later"). The tests put it around the consumers' writer of derived events and dead
 * letters with the local runtime's `wrapConsumerWriter` option; the deployed functions never see it
 * (test/unit/entrypoints.test.ts checks the bundles).
 */
import type { KafkaWriter } from '../../core/kafka-records';
import { KafkaUnavailableError } from '../../lambdas/shared/kafka';

export interface InjectedFailureOptions {
  /** Numbers in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Called for every send made to fail. */
  readonly onInjected?: () => void;
}

/** `writer`, except that each send fails with probability `rate` (above 0, at most 1). */
export function withInjectedFailures(
  writer: KafkaWriter,
  rate: number,
  options: InjectedFailureOptions = {},
): KafkaWriter {
  if (!(rate > 0 && rate <= 1)) {
    throw new Error(`withInjectedFailures: rate must be above 0 and at most 1, not ${rate}`);
  }
  const random = options.random ?? Math.random;
  return {
    send: async (batch) => {
      if (random() < rate) {
        options.onInjected?.();
        throw new KafkaUnavailableError(`injected failure (rate ${rate})`);
      }
      return writer.send(batch);
    },
  };
}
