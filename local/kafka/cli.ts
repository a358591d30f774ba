/**
 * `npm run kafka:fetch` resolves and caches the broker jars (CI runs it before the tests).
 * `npm run kafka -- [--nodes 3] [--data-dir DIR] [--port 9092]` runs a cluster until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { EmbeddedKafka } from './broker';
import { ensureKafka } from './jars';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    nodes: { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
    port: { type: 'string' },
  },
});
const log = (line: string) => console.error(line);

try {
  if (positionals[0] === 'fetch') {
    const started = performance.now();
    const dist = await ensureKafka(log);
    console.log(
      `Apache Kafka ${dist.version}: ${dist.libsDir} (${dist.fetched ? 'fetched' : 'already cached'}, ${Math.round(performance.now() - started)} ms)`,
    );
  } else if (positionals[0] === 'run') {
    const nodes = Number(values.nodes);
    if (nodes !== 1 && nodes !== 3) throw new Error(`--nodes must be 1 or 3, not "${values.nodes}"`);
    const cluster = await EmbeddedKafka.start({
      nodes,
      dataDir: values['data-dir'],
      port: values.port ? Number(values.port) : undefined,
      log,
    });
    console.log(`KAFKA_BROKERS=${cluster.bootstrapServers}`);
    const shutdown = async () => {
      await cluster.stop();
      process.exit(0);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  } else {
    throw new Error('usage: cli.ts fetch | run [--nodes 1|3] [--data-dir DIR] [--port N]');
  }
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exit(1);
}
