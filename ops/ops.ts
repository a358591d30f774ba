/**
 * `npm run ops -- [--stage S | --cluster-arn A] <command>`: the operator's tools for the event
 * topics, on the local broker or on MSK.
 *
 *   tail <topic> [--from-beginning] [--limit N]     follow a topic, values decoded
 *   dead-letters [<dlq-topic>] [--limit N]          dead letters and why (default: every <topic>.dlq)
 *   redrive <dlq-topic> [--partition P] [--from-offset A] [--to-offset B] [--dry-run]
 *                                                   write dead letters' originals back to their topic
 *   lag                                             consumer lag of each event-source mapping
 *   analytics --from YYYY-MM-DD --to YYYY-MM-DD     daily counts, revenue and active users (./analytics.ts)
 *
 * `--json` prints JSON (one object per record for tail). Connection (./discover.ts): KAFKA_BROKERS
 * if set; else the MSK cluster of `--stage` (its stack's ClusterArn output) or of `--cluster-arn`,
 * whose bootstrap brokers are looked up, with IAM; else 127.0.0.1:9092. Errors are one line on stderr;
 * exit status 1 when an operation fails, 2 when the command line is wrong.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseRange } from '../core/analytics-query';
import { formatDaily, opsAnalyticsReader } from './analytics';
import { connectOps, OpsError, UsageError } from './clients';
import { formatDeadLetter, listDeadLetters } from './dead-letters';
import { formatRecord } from './decode';
import { type DiscoveryClients, opsTarget, resolveSettings, targetEnvironment } from './discover';
import { formatLags, mappingLags } from './lag';
import { formatRedrive, redrive } from './redrive';
import { schemaIdsFromEnvironment } from './reframe';
import { tail } from './tail';

const USAGE = `usage: npm run ops -- [--stage S | --cluster-arn A] <command> [options]

commands:
  tail <topic> [--from-beginning] [--limit N]
      Follow a topic (from its end, or its start with --from-beginning) and print each record:
      partition, offset, key, headers and the value decoded (Glue-framed JSON, JSON, text or base64).
      Stops after N records with --limit, otherwise on Ctrl-C.
  dead-letters [<dlq-topic>] [--limit N]
      List dead letters with their source record and reason (default: every <topic>.dlq of
      core/topology.ts); --limit N shows the last N of each partition.
  redrive <dlq-topic> [--partition P] [--from-offset A] [--to-offset B] [--dry-run]
      Write each dead letter's original record back to its source topic (header redriven-from),
      skipping those re-driven before (recorded in <dlq-topic>.redriven). Offsets are inclusive,
      in each partition (or only in P). A value the mapping delivered as JSON is Glue-framed again
      with the schema version it carried (else its contract's current one).
  lag
      Records each event-source mapping's consumer group has yet to process.
  analytics --from YYYY-MM-DD --to YYYY-MM-DD
      Each day's event counts by type, revenue by currency (minor units, net of refunds) and
      active users, from the analytics table (at most 366 days, both dates included).

options:
  --stage S          the deployed stage S: the cluster named by the ClusterArn output of the stack
                     S-kafka (in AWS_REGION), its brokers from Kafka GetBootstrapBrokers; IAM auth
  --cluster-arn A    the MSK cluster A, its brokers from Kafka GetBootstrapBrokers; IAM auth
  --json             machine-readable output
  --help             this text

environment:
  KAFKA_BROKERS  bootstrap brokers, host:port[,host:port]: used as given, nothing looked up
                 (default without --stage or --cluster-arn: 127.0.0.1:9092, the broker of npm start)
  OPS_STAGE, OPS_CLUSTER_ARN  as --stage and --cluster-arn
  KAFKA_AUTH     iam (default with --stage or --cluster-arn: MSK IAM over TLS, needs AWS credentials)
                 or plaintext (default otherwise)
  AWS_REGION     with iam or --stage: the region of the cluster and its stack
  GLUE_REGISTRY_NAME  with iam: the stack's Glue registry (<stage>-events), for redrive
  ANALYTICS_TABLE     for analytics: the table (default with --stage: <stage>-analytics)
  DYNAMODB_ENDPOINT   for analytics: a local DynamoDB-compatible endpoint (npm start's)`;

function count(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, not "${raw}"`);
  }
  return Number(raw);
}

function offset(name: string, raw: string | undefined): bigint | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,19}$/.test(raw)) throw new UsageError(`--${name} must be an offset (0 or more), not "${raw}"`);
  return BigInt(raw);
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        'from-beginning': { type: 'boolean', default: false },
        limit: { type: 'string' },
        partition: { type: 'string' },
        'from-offset': { type: 'string' },
        'to-offset': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        stage: { type: 'string' },
        'cluster-arn': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
      },
    });
  } catch (error) {
    // parseArgs' messages are clear but long; keep their first sentence.
    throw new UsageError(((error as Error).message.split('\n')[0] ?? '').replace(/\. .*$/, ''));
  }
}

/** Options a command does not take are refused rather than silently ignored. */
function only(command: string, values: Record<string, unknown>, allowed: readonly string[]): void {
  const defaults: Record<string, unknown> = {
    json: false,
    help: false,
    'from-beginning': false,
    'dry-run': false,
  };
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === defaults[name]) continue;
    if (['json', 'help', 'stage', 'cluster-arn'].includes(name)) continue;
    if (!allowed.includes(name)) throw new UsageError(`${command} does not take --${name}`);
  }
}

function positional(command: string, positionals: readonly string[], max: number, what: string): string[] {
  const args = positionals.slice(1);
  if (args.length > max) throw new UsageError(`${command} takes ${what}; unexpected "${args[max]}"`);
  return args;
}

/** Where a run's output goes and the environment it reads (tests pass their own). */
export interface MainIo {
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** The AWS calls that find a stage's or cluster's brokers (./discover.ts); tests give their own. */
  readonly aws?: DiscoveryClients;
}

/** Runs one command line; returns the exit status. */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(`${t}\n`));
  const err = io.err ?? ((t: string) => process.stderr.write(`${t}\n`));
  let close: (() => Promise<void>) | undefined;
  try {
    const { values, positionals } = parse(argv);
    const command = positionals[0];
    if (values.help || command === 'help') {
      out(USAGE);
      return 0;
    }
    if (!command)
      throw new UsageError(
        'no command given (tail, dead-letters, redrive, lag, analytics; --help lists them)',
      );
    if (!['tail', 'dead-letters', 'redrive', 'lag', 'analytics'].includes(command)) {
      throw new UsageError(
        `unknown command "${command}" (tail, dead-letters, redrive, lag, analytics; --help lists them)`,
      );
    }
    // Check the command line fully before connecting, so a typo costs no connection attempt.
    const env = io.env ?? process.env;
    const target = opsTarget({ stage: values.stage, clusterArn: values['cluster-arn'] }, env);
    if (command === 'analytics') {
      // Reads DynamoDB, not Kafka: no cluster is looked up or connected to.
      only(command, values, ['from', 'to']);
      positional(command, positionals, 0, 'no arguments');
      const range = parseRange(values.from, values.to);
      if (!range.ok) {
        const { path, message } = range.problem;
        throw new UsageError(message.startsWith(path) ? `--${message}` : message);
      }
      const table = opsAnalyticsReader(target, env);
      close = async () => table.close();
      const daily = await table.reader.daily(range.days);
      out(values.json ? JSON.stringify(daily, null, 2) : formatDaily(daily));
      return 0;
    }
    let run: () => Promise<number>;
    if (command === 'tail') {
      only(command, values, ['from-beginning', 'limit']);
      const [topic] = positional(command, positionals, 1, 'one topic');
      if (!topic) throw new UsageError('tail needs a topic: tail <topic> [--from-beginning] [--limit N]');
      const limit = count('limit', values.limit, 1);
      run = async () => {
        const abort = new AbortController();
        const onSignal = () => abort.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await tail(clients, {
            topic,
            fromBeginning: values['from-beginning'],
            limit,
            signal: abort.signal,
            onRecord: (r) => out(values.json ? JSON.stringify(r) : formatRecord(r)),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        return 0;
      };
    } else if (command === 'dead-letters') {
      only(command, values, ['limit']);
      const [topic] = positional(command, positionals, 1, 'at most one dead-letter topic');
      const limit = count('limit', values.limit, 1);
      run = async () => {
        const listing = await listDeadLetters(clients, {
          ...(topic ? { topics: [topic] } : {}),
          ...(limit ? { lastPerPartition: limit } : {}),
        });
        if (values.json) out(JSON.stringify(listing, null, 2));
        else {
          for (const missing of listing.missingTopics) err(`note: topic ${missing} does not exist`);
          for (const e of listing.entries) out(formatDeadLetter(e));
          out(
            `${listing.entries.length} dead letter(s), ${listing.entries.filter((e) => e.redriven).length} re-driven`,
          );
        }
        return 0;
      };
    } else if (command === 'redrive') {
      only(command, values, ['partition', 'from-offset', 'to-offset', 'dry-run']);
      const [topic] = positional(command, positionals, 1, 'one dead-letter topic');
      if (!topic) {
        throw new UsageError(
          'redrive needs a dead-letter topic: redrive <dlq-topic> [--from-offset A] [--to-offset B] [--dry-run]',
        );
      }
      const options = {
        dlqTopic: topic,
        partition: count('partition', values.partition, 0),
        fromOffset: offset('from-offset', values['from-offset']),
        toOffset: offset('to-offset', values['to-offset']),
        dryRun: values['dry-run'],
        schemaIds: schemaIdsFromEnvironment(targetEnvironment(target, env)),
      };
      if (
        options.fromOffset !== undefined &&
        options.toOffset !== undefined &&
        options.fromOffset > options.toOffset
      ) {
        throw new UsageError(`--from-offset ${options.fromOffset} is after --to-offset ${options.toOffset}`);
      }
      run = async () => {
        const result = await redrive(clients, options);
        out(values.json ? JSON.stringify(result, null, 2) : formatRedrive(result));
        return 0;
      };
    } else {
      only(command, values, []);
      positional(command, positionals, 0, 'no arguments');
      run = async () => {
        const lags = await mappingLags(clients.admin);
        out(values.json ? JSON.stringify(lags, null, 2) : formatLags(lags));
        return 0;
      };
    }
    const clients = await connectOps(await resolveSettings(target, env, io.aws));
    close = clients.close;
    return await run();
  } catch (error) {
    if (error instanceof OpsError) {
      err(`ops: ${error.message}`);
      return error.exitCode;
    }
    const e = error as Error;
    err(`ops: ${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`);
    if ((io.env ?? process.env).OPS_DEBUG) err(e.stack ?? '');
    return 1;
  } finally {
    await close?.();
  }
}

// Run when executed (tsx ops/ops.ts), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((status) => process.exit(status));
}
