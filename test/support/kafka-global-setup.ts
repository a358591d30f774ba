/**
 * Starts one real Apache Kafka broker (a `kafka.Kafka` JVM) for the integration tests, unless
 * KAFKA_BROKERS names a cluster to use instead. Tests read the brokers with `inject('kafkaBrokers')`.
 */
import type { TestProject } from 'vitest/node';
import { EmbeddedKafka } from '../../local/kafka/broker';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated `host:port` list of the brokers under test. */
    kafkaBrokers: string;
    /** OS process id of the broker JVM this setup started; 0 when KAFKA_BROKERS was used. */
    kafkaPid: number;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    console.log(`[kafka] using KAFKA_BROKERS=${external}`);
    project.provide('kafkaBrokers', external);
    project.provide('kafkaPid', 0);
    return undefined;
  }
  const cluster = await EmbeddedKafka.start({
    log: (line) => /ERROR|resolving|cached/.test(line) && console.log(line),
  });
  console.log(
    `[kafka] Apache Kafka ${cluster.distribution.version} broker ready on ${cluster.bootstrapServers} in ${cluster.readyMillis} ms`,
  );
  project.provide('kafkaBrokers', cluster.bootstrapServers);
  project.provide('kafkaPid', cluster.pidOf(1) ?? 0);
  return () => cluster.stop();
}
