/**
 * `npm start`: the local system on a real Apache Kafka broker, with no AWS account and no Docker.
 *
 * Starts the embedded broker (data kept in `.kafka-data/`, so a second start finds its topics and
 * events again) unless KAFKA_BROKERS names a cluster, and creates the topology's topics.
 *
 * Environment: KAFKA_BROKERS (use this cluster, start nothing), KAFKA_PORT (broker port, default
 * 9092), LOCAL_DATA_DIR (default `.kafka-data`).
 */
import '../lambdas/shared/kafkajs-fix';
import { Kafka, logLevel } from 'kafkajs';
import { EmbeddedKafka } from './kafka/broker';
import { ensureTopics } from './kafka/topics';
import { assertLambdaNodeMajor } from './node-version';

const say = (line: string) => console.log(`[local] ${line}`);

async function main(): Promise<void> {
  assertLambdaNodeMajor();
  let cluster: EmbeddedKafka | undefined;
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    say(`using the Kafka cluster at ${external}`);
  } else {
    const port = Number(process.env.KAFKA_PORT ?? 9092);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`KAFKA_PORT "${process.env.KAFKA_PORT}" is not a port number`);
    cluster = await EmbeddedKafka.start({
      dataDir: process.env.LOCAL_DATA_DIR ?? '.kafka-data',
      port,
      log: (line) => {
        if (!line.startsWith('[kafka') || /\b(WARN|ERROR)\b/.test(line)) console.error(line);
      },
    });
  }
  const brokers = external ?? (cluster as EmbeddedKafka).bootstrapServers;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    await cluster?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  const admin = new Kafka({
    clientId: 'local-start',
    brokers: brokers.split(','),
    logLevel: logLevel.ERROR,
  }).admin();
  await admin.connect();
  try {
    const result = await ensureTopics(admin);
    say(`topics: ${result.created.length} created, ${result.existing.length} already there`);
    for (const m of result.mismatched) {
      say(`warning: ${m.topic} has ${m.partitions} partitions, the topology says ${m.expected}`);
    }
  } finally {
    await admin.disconnect();
  }
  say(`Kafka ready: KAFKA_BROKERS=${brokers}${cluster ? ` (started in ${cluster.readyMillis} ms)` : ''}`);
  say('press Ctrl-C to stop');
}

main().catch(async (error: Error) => {
  console.error(`[local] cannot start: ${error.message}`);
  process.exit(1);
});
