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
 *
 * Before the server starts, the wrapper patches moto's DynamoDB backend (see DYNAMODB_TRANSACTIONS).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pythonTool, VENV } from './python-venv';

/**
 * WORKAROUND of a limitation of moto 5.2.5 (requirements-dev.txt), applied to its DynamoDB backend
 * before the server starts. What it works around, as read in moto/dynamodb/models/__init__.py,
 * `DynamoDBBackend.transact_write_items`:
 * - as its rollback backup it deep-copies the table of every action (`copy.deepcopy(
 *   self.tables[table_name])`, once per action: a 100-action transaction copies its table 100 times),
 *   and on failure puts the copies back in place (`self.tables[table_name] =
 *   original_table_state[table_name]`). Each TransactWriteItems thus costs O(items in those tables):
 *   0.4 s on an empty table, 8 s at ~500 items, 18 s at ~2,000, so the analytics consumer (one
 *   transaction per up to 100 events, lambdas/analytics/store.ts) stalls after a few thousand events;
 * - ThreadedMotoServer answers requests on several threads and nothing locks a transaction, so two
 *   transactions interleave, and a cancelled one's whole-table restore undoes whatever another
 *   thread committed meanwhile.
 * The patch:
 * - holds one process-wide lock for the whole of transact_write_items and around the backend's
 *   single-item writes and reads (put_item, update_item, delete_item, get_item, query, scan; the
 *   handlers of BatchWriteItem/BatchGetItem call these per item), so transactions are atomic with
 *   respect to each other and to other requests, as DynamoDB's are ("serializable" isolation between
 *   a transaction and any write or GetItem:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-isolation).
 *   It is re-entrant because moto's transact_write_items calls put_item/update_item/delete_item itself;
 * - backs up only the items the transaction names (table, hash key, range key: found exactly as moto
 *   finds them, the key attributes of a Put's Item or the Key of the other actions), deep copies of
 *   them (UpdateItem changes an item in place) or their absence, and the length of the table's
 *   stream; when moto's transact_write_items raises (TransactionCanceledException after running every
 *   action, or a validation error part way), it puts back exactly those items, deletes those that did
 *   not exist before, drops the stream records the transaction added, and re-raises moto's error
 *   unchanged. moto's whole-table deep copy is skipped by handing its `copy.deepcopy(table)` the
 *   table itself (only inside a patched transaction, on its thread), which makes its own restore
 *   assign each table to itself. Everything else (conditions, CancellationReasons in request order,
 *   the exceptions and their shapes) is moto's own code, run as before.
 */
const DYNAMODB_TRANSACTIONS = `
import copy, threading
import moto.dynamodb.models as ddb_models
from moto.dynamodb.models.table import Table

_backend = ddb_models.DynamoDBBackend
_lock = threading.RLock()
_transaction = threading.local()

class _CopyModule:
    # Stands in for the copy module in moto.dynamodb.models' namespace.
    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(x, memo=None):
        if isinstance(x, Table) and getattr(_transaction, "active", False):
            return x
        return copy.deepcopy(x, memo)

ddb_models.copy = _CopyModule()

def _touched(backend, transact_items):
    found = {}
    for action in transact_items:
        for op_type, op in action.items():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue
            try:
                if op_type == "Put":
                    attrs = op["Item"]
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                hash_key, range_key = backend.get_keys_value(table, key)
            except Exception:
                continue  # moto rejects this action itself before writing it
            ident = (table.name, hash_key, range_key)
            if ident in found:
                continue
            had_bucket = hash_key in table.items
            if table.range_key_attr is None:
                item = table.items.get(hash_key)
            else:
                item = table.items[hash_key].get(range_key) if had_bucket else None
            found[ident] = (table, hash_key, range_key, had_bucket, copy.deepcopy(item))
    streams = {}
    for table, *_ in found.values():
        if table.stream_shard is not None:
            streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
    return list(found.values()), list(streams.values())

def _restore(items, streams):
    for table, hash_key, range_key, had_bucket, item in items:
        if table.range_key_attr is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is not None:
            table.items[hash_key][range_key] = item
        elif hash_key in table.items:
            table.items[hash_key].pop(range_key, None)
            if not had_bucket and not table.items[hash_key]:
                del table.items[hash_key]
    for shard, length in streams:
        del shard.items[length:]

_original_transact_write_items = _backend.transact_write_items

def _transact_write_items(self, transact_items):
    with _lock:
        items, streams = _touched(self, transact_items) if isinstance(transact_items, list) else ([], [])
        _transaction.active = True
        try:
            return _original_transact_write_items(self, transact_items)
        except BaseException:
            _restore(items, streams)
            raise
        finally:
            _transaction.active = False

_backend.transact_write_items = _transact_write_items

def _locked(method):
    def locked(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)
    locked.__name__ = method.__name__
    return locked

for _name in ("put_item", "update_item", "delete_item", "get_item", "query", "scan"):
    setattr(_backend, _name, _locked(getattr(_backend, _name)))
`;

const WRAPPER = `
import os, sys
${DYNAMODB_TRANSACTIONS}
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
