/**
 * `npm start`: the whole system locally on a real Apache Kafka broker, with no AWS account and no
 * Docker. See local/runtime.ts.
 *
 * Options: `--bundles` runs the esbuild bundles CDK deploys instead of the sources.
 * Environment: KAFKA_BROKERS (use this cluster, start no broker), KAFKA_PORT (embedded broker,
 * default 9092), API_PORT (default 3000), LOCAL_DATA_DIR (default .kafka-data), DYNAMODB_ENDPOINT (count
 * the analytics there, e.g. DynamoDB Local or LocalStack, instead of a moto server started here),
 * ANALYTICS_TABLE (default local-analytics).
 */
import { KafkaToolchainError } from './kafka/jars';
import { assertLambdaNodeMajor } from './node-version';
import { LocalRuntime, StartupError } from './runtime';

const say = (line: string) => console.log(`[local] ${line}`);

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new StartupError(`${name}="${raw}" is not a port number`);
  return value;
}

async function main(): Promise<void> {
  assertLambdaNodeMajor();
  const external = process.env.KAFKA_BROKERS?.trim() || undefined;
  const runtime = await LocalRuntime.start({
    brokers: external,
    apiPort: port('API_PORT', 3000),
    kafkaPort: port('KAFKA_PORT', 9092),
    dataDir: process.env.LOCAL_DATA_DIR,
    bundles: process.argv.includes('--bundles'),
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT?.trim() || undefined,
    analyticsTable: process.env.ANALYTICS_TABLE?.trim() || undefined,
    log: (line) => console.error(line),
  });
  say(`Kafka:        ${runtime.brokers}${external ? ' (KAFKA_BROKERS)' : ' (embedded Apache Kafka)'}`);
  say(`topics:       ${runtime.createdTopics.length} created, the rest already there`);
  for (const m of runtime.mappings) say(`mapping:      ${m.name} (${m.state})`);
  say(`functions:    ${runtime.origin}`);
  say(`schemas:      ${runtime.schemaSource}`);
  const storage = runtime.analyticsStorage;
  say(
    `analytics:    table ${storage.tableName} at ${storage.endpoint}${storage.origin === 'moto' ? ' (moto)' : ' (DYNAMODB_ENDPOINT)'}`,
  );
  say(`API:          ${runtime.apiUrl}/events/{user|order|payment}[/batch]`);
  say(`live view:    ${runtime.apiUrl}/`);
  say(`OpenAPI:      ${runtime.apiUrl}/openapi.json`);
  say(`health:       ${runtime.apiUrl}/health    metrics: ${runtime.apiUrl}/metrics`);
  say(`ready in ${runtime.startedInMs} ms; Ctrl-C stops`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping (finishing requests and batches in flight)`);
    await runtime.stop();
    say('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: Error) => {
  const known = error instanceof StartupError || error instanceof KafkaToolchainError;
  console.error(`[local] cannot start: ${known ? error.message : (error.stack ?? error.message)}`);
  process.exit(1);
});
