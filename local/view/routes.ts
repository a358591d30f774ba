/**
 * The live view's routes on the local API: `GET /` (the page, local/view/index.html: plain HTML and
 * a little vanilla JavaScript, no build step, nothing loaded from elsewhere), `GET /chart.js` (its
 * analytics chart, local/view/chart.ts with the types stripped), `GET /api/overview`
 * (local/view/overview.ts) and `POST /api/redrive` (ops/redrive.ts, the logic of
 * `npm run ops -- redrive`).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { transform } from 'esbuild';
import { topics } from '../../core/topology';
import { OpsError } from '../../ops/clients';
import { redrive } from '../../ops/redrive';
import type { ApiServerOptions } from '../api/server';
import { type Overview, type OverviewOptions, type OverviewSources, readOverview } from './overview';

type Response = { status?: number; contentType: string; body: string };

const JSON_TYPE = 'application/json; charset=utf-8';
const json = (status: number, body: unknown): Response => ({
  status,
  contentType: JSON_TYPE,
  body: JSON.stringify(body),
});

/** What a re-drive request may name. */
interface RedriveRequest {
  topic: string;
  partition?: number;
  offset?: string;
}

function parseRedrive(body: Buffer): RedriveRequest | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return 'the body is not a JSON object';
  const { topic, partition, offset } = parsed as Record<string, unknown>;
  if (typeof topic !== 'string') return '"topic" (the dead-letter topic) is required';
  const dlqs = topics.filter((t) => t.carries === 'dead_letter').map((t) => t.name);
  if (!dlqs.includes(topic)) return `"${topic}" is not a dead-letter topic (${dlqs.join(', ')})`;
  if (partition !== undefined && (!Number.isInteger(partition) || (partition as number) < 0))
    return '"partition" must be an integer ≥ 0';
  const offsetText = typeof offset === 'number' ? String(offset) : offset;
  if (offsetText !== undefined && (typeof offsetText !== 'string' || !/^\d{1,19}$/.test(offsetText)))
    return '"offset" must be an offset (0 or more)';
  if (offsetText !== undefined && partition === undefined) return '"offset" needs "partition"';
  return {
    topic,
    ...(partition === undefined ? {} : { partition: partition as number }),
    ...(offsetText === undefined ? {} : { offset: offsetText }),
  };
}

/**
 * The live view's pages and actions, for `createApiServer`. Overview reads run one at a time and
 * are shared by requests that arrive meanwhile, so several open pages cost one read.
 */
export function liveView(
  sources: OverviewSources,
  options: OverviewOptions = {},
): Required<Pick<ApiServerOptions, 'pages' | 'actions'>> {
  let inFlight: Promise<Overview> | undefined;
  const overview = () => {
    inFlight ??= readOverview(sources, options).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const page = new URL('./index.html', import.meta.url);
  // The chart module as the browser runs it: the TypeScript source without its types, made once.
  let chart: Promise<string> | undefined;
  const chartScript = () => {
    chart ??= readFile(new URL('./chart.ts', import.meta.url), 'utf8')
      .then((source) => transform(source, { loader: 'ts', format: 'esm', target: 'es2022' }))
      .then((result) => result.code);
    return chart;
  };
  return {
    pages: {
      '/': async () => ({ contentType: 'text/html; charset=utf-8', body: await readFile(page, 'utf8') }),
      '/chart.js': async () => ({ contentType: 'text/javascript; charset=utf-8', body: await chartScript() }),
      '/api/overview': async () => {
        try {
          return json(200, await overview());
        } catch (error) {
          return json(503, { error: 'KafkaUnavailable', message: (error as Error).message });
        }
      },
    },
    actions: {
      '/api/redrive': async (req: IncomingMessage, body: Buffer) => {
        // Only JSON: a cross-site form cannot send it without a CORS preflight this server never
        // answers, so another web page open in the browser cannot trigger a re-drive.
        if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
          return json(415, { error: 'UnsupportedMediaType', message: 'send application/json' });
        }
        const request = parseRedrive(body);
        if (typeof request === 'string') return json(400, { error: 'BadRequest', message: request });
        try {
          const offset = request.offset === undefined ? undefined : BigInt(request.offset);
          const result = await redrive(sources.clients, {
            dlqTopic: request.topic,
            partition: request.partition,
            fromOffset: offset,
            toOffset: offset,
          });
          return json(200, {
            redriven: result.redriven.map((r) => ({
              deadLetter: `${result.dlqTopic}/${r.entry.partition}/${r.entry.offset}`,
              to: r.to,
            })),
            alreadyRedriven: result.alreadyRedriven.length,
            skipped: result.skipped.map((e) => ({
              deadLetter: `${e.dlqTopic}/${e.partition}/${e.offset}`,
              problem: e.problem,
            })),
          });
        } catch (error) {
          if (error instanceof OpsError && error.exitCode === 2) {
            return json(400, { error: 'BadRequest', message: error.message });
          }
          return json(503, { error: 'RedriveFailed', message: (error as Error).message });
        }
      },
    },
  };
}
