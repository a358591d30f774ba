/**
 * Item 2, the server side of the HTTP path. `subject`: the local API (local/api/server.ts) serving
 * the producer function, as `npm start` serves it, in a process of its own (no consumers). `baseline`:
 * a plain node:http server that frames the posted event and writes it with a bare kafkajs producer
 * (same key, value bytes, headers and acks), answering 202 with the record's partition and offset.
 * Sends `ready` with its port, serves until told to stop, then reports its peak RSS and CPU time.
 */
import type { AddressInfo } from 'node:net';
import { createHandler } from '../../lambdas/producer/handler';
import { createApiServer } from '../../local/api/server';
import { coalescingWriters } from '../../local/coalescing-writer';
import { bareHttpServer } from '../lib/bare-http';
import { fromParent, peakRssMb, runWorker, toParent, workerArgs } from '../lib/worker';

export interface HttpServerArgs {
  readonly mode: 'subject' | 'baseline';
  readonly brokers: string;
}

export interface HttpServerResult {
  readonly peakRssMb: number;
  readonly cpuSeconds: number;
}

async function main(): Promise<HttpServerResult> {
  const args = workerArgs<HttpServerArgs>();
  // The producer function as the local runtime builds it (local/functions.ts).
  const writers = coalescingWriters();
  const { server, close } =
    args.mode === 'subject'
      ? {
          server: createApiServer({
            producer: createHandler({ writer: writers.create }) as never,
            health: async () => ({ healthy: true }),
            metrics: async () => ({ contentType: 'text/plain', body: '' }),
          }),
          close: () => writers.disconnect(),
        }
      : await bareHttpServer(args.brokers);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cpuAtStart = process.cpuUsage();
  await toParent({ type: 'ready', data: { port: (server.address() as AddressInfo).port } });
  await fromParent('stop');
  const cpu = process.cpuUsage(cpuAtStart);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await close();
  return { peakRssMb: peakRssMb(), cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100 };
}

runWorker(main);
