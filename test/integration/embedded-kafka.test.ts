/**
 * The embedded Apache Kafka used by the tests and `npm start`: cached jars, persistent restarts,
 * no orphaned JVM, a clear error without a JDK, and the 3-node mode the fault tests use.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { topicNamed } from '../../core/topology';
import { ensureTopics } from '../../lambdas/shared/topics';
import { EmbeddedKafka } from '../../local/kafka/broker';
import { ensureKafka } from '../../local/kafka/jars';
import { durableProducer, testKafka, unique } from '../support/kafka-clients';

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return condition();
}

describe('embedded Kafka', () => {
  it('finds its jars in the cache on a second start and downloads nothing', async () => {
    const lines: string[] = [];
    const dist = await ensureKafka((line) => lines.push(line));
    expect(dist.fetched).toBe(false);
    expect(lines).toEqual([]);
    expect(dist.version).toMatch(/^4\./);
  });

  it('leaves no JVM behind when its parent process is killed with SIGKILL', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/kafka-child.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        if (buffered.includes('\n')) resolve(buffered.split('\n')[0] as string);
      });
      child.once('exit', (code) => reject(new Error(`child exited with ${code} before the broker started`)));
    });
    const { pid } = JSON.parse(first) as { pid: number };
    expect(alive(pid)).toBe(true);

    child.kill('SIGKILL');
    expect(await waitFor(() => !alive(pid), 30_000)).toBe(true);
  });

  it('keeps its topics and port across a restart on the same data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kafka-persist-'));
    try {
      const first = await EmbeddedKafka.start({ dataDir, heapMb: 256 });
      const kafka = testKafka(first.bootstrapServers, 'persist');
      const admin = kafka.admin();
      await admin.connect();
      const created = await ensureTopics(admin, [topicNamed('cleanup-events')]);
      await admin.disconnect();
      await first.stop();
      expect(created.created).toEqual(['cleanup-events']);

      const second = await EmbeddedKafka.start({ dataDir, heapMb: 256 });
      try {
        expect(second.bootstrapServers).toBe(first.bootstrapServers);
        const admin2 = testKafka(second.bootstrapServers, 'persist-2').admin();
        await admin2.connect();
        const again = await ensureTopics(admin2, [topicNamed('cleanup-events')]);
        await admin2.disconnect();
        expect(again).toEqual({ created: [], existing: ['cleanup-events'], mismatched: [] });
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('says plainly that a JDK 17+ is needed when none is on PATH', async () => {
    const script =
      "import('./local/kafka/jars.ts').then(m => m.requireJdk()).then(() => console.log('found'), e => console.log(e.name + ': ' + e.message))";
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], {
      // Only Node's own directory on PATH, and no JAVA_HOME: no java to be found.
      env: { PATH: dirname(process.execPath), HOME: process.env.HOME ?? '' },
    });
    expect(stdout).toMatch(/^KafkaToolchainError: No Java runtime found\. .*JDK 17 or newer/);
  });

  it('runs three brokers (replication 3, min.insync.replicas 2) that keep accepting writes while one is down', async () => {
    const cluster = await EmbeddedKafka.start({ nodes: 3, heapMb: 256 });
    console.log(`[kafka] 3-node cluster ready in ${cluster.readyMillis} ms`);
    try {
      const kafka = testKafka(cluster.bootstrapServers, 'three');
      const admin = kafka.admin();
      await admin.connect();
      const topic = { ...topicNamed('user-events'), name: unique('replicated'), partitions: 3 };
      await ensureTopics(admin, [topic]);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic.name] });
      for (const p of metadata.topics[0]?.partitions ?? []) expect(p.replicas).toHaveLength(3);
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topic.name, configNames: ['min.insync.replicas'] }],
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe('2');
      await admin.disconnect();

      const producer = durableProducer(kafka);
      await producer.connect();
      const send = (from: number) =>
        producer.send({
          topic: topic.name,
          acks: -1,
          messages: Array.from({ length: 50 }, (_, i) => ({ key: `k-${i % 7}`, value: String(from + i) })),
        });
      await send(0);
      await cluster.stopNode(2, 'SIGKILL');
      expect(cluster.isRunning(2)).toBe(false);
      await send(50); // two of three replicas are still in sync: acks=all writes succeed
      await cluster.startNode(2);
      await send(100);
      await producer.disconnect();

      const values: number[] = [];
      const consumer = kafka.consumer({ groupId: unique('three') });
      await consumer.connect();
      await consumer.subscribe({ topic: topic.name, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              values.push(Number(message.value?.toString()));
              if (values.length >= 150) resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    } finally {
      await cluster.stop();
    }
  });
});
