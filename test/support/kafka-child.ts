/**
 * Child process for the orphan test: starts an embedded broker, prints its JVM pid as one JSON line,
 * then waits to be killed.
 */
import { EmbeddedKafka } from '../../local/kafka/broker';

const cluster = await EmbeddedKafka.start({ heapMb: 256 });
process.stdout.write(`${JSON.stringify({ pid: cluster.pidOf(1), brokers: cluster.bootstrapServers })}\n`);
setInterval(() => {}, 60_000);
