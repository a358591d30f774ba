/**
 * moto's server (https://docs.getmoto.org/en/latest/docs/server_mode.html), the AWS API stand-in the
 * local runtime uses for DynamoDB (it implements TransactWriteItems with condition expressions, which
 * the analytics store needs) and the tests use for Glue. No Docker, no account: it is a Python package
 * of requirements-dev.txt, installed into .venv on first use (./python-venv.ts).
 *
 * It runs in a small Python wrapper that starts moto's `ThreadedMotoServer` on a free loopback port
 * (port 0: the system picks it, no race with another process), prints the port, and exits when its
 * stdin reaches end of file. This process holds the only other end of that pipe, so the server ends
 * with it however it ends, SIGKILL included (the kernel closes the pipe), as the Kafka JVMs do under
 * ParentWatch (./kafka/broker.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pythonTool, VENV } from './python-venv';

const WRAPPER = `
import os, sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print("moto-port %d" % server.get_host_and_port()[1], flush=True)
sys.stdin.buffer.read()
os._exit(0)
`;

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Ends the server and waits for its process to exit. */
  stop(): Promise<void>;
}

/** Starts a moto server; rejects with its output if it does not listen within `timeoutMs`. */
export async function startMotoServer(timeoutMs = 60_000): Promise<MotoServer> {
  // moto_server is the installed package's script: its presence means moto[server] is installed.
  await pythonTool('moto_server');
  const child: ChildProcess = spawn(join(VENV, 'bin', 'python'), ['-c', WRAPPER], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => {});
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`moto did not start within ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = /moto-port (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run moto (${join(VENV, 'bin', 'python')}): ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`moto exited with ${code ?? signal} before listening:\n${output.slice(-2000)}`));
    });
  });
  // Its request log is not needed; keep draining so the pipes never fill.
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
