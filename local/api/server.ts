/**
 * The local API: an HTTP server that turns each request into the API Gateway REST (v1) proxy event
 * the deployed API would send, invokes the same producer handler, and writes its response. Routes and
 * status codes are those of the deployed API; `GET /openapi.json`, `/health` and `/metrics` are local
 * extras. Bodies are read up to the producer's limit and no further, so memory stays bounded.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ANALYTICS_ROUTE } from '../../core/analytics-query';
import { MAX_BODY_BYTES } from '../../core/api/limits';
import { buildOpenApiDocument } from '../../core/api/openapi';
import { type AsyncHandler, invoke } from '../lambda';

/** Largest body an extra POST route reads; its requests are small JSON documents. */
const ACTION_BODY_LIMIT = 64 * 1024;

const ROUTES: { pattern: RegExp; resource: string }[] = [
  { pattern: /^\/events\/([^/]+)\/batch\/?$/, resource: '/events/{stream}/batch' },
  { pattern: /^\/events\/([^/]+)\/?$/, resource: '/events/{stream}' },
];

export interface ApiServerOptions {
  readonly producer: AsyncHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  /** The analytics API function (`GET /analytics/daily`); without it the route is not served. */
  readonly analytics?: AsyncHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  readonly health: () => Promise<{ healthy: boolean; [key: string]: unknown }>;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  /** Extra GET routes (the live view). */
  readonly pages?: Readonly<
    Record<string, (req: IncomingMessage) => Promise<{ status?: number; contentType: string; body: string }>>
  >;
  /** Extra POST routes (the live view's actions), given the body read up to {@link ACTION_BODY_LIMIT}. */
  readonly actions?: Readonly<
    Record<
      string,
      (req: IncomingMessage, body: Buffer) => Promise<{ status?: number; contentType: string; body: string }>
    >
  >;
  readonly onRequest?: (route: string, status: number, stream: string | undefined, body: string) => void;
  /** Producer function timeout. @default 30 */
  readonly timeoutSeconds?: number;
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number | boolean>,
  body: string,
): void {
  res.writeHead(status, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
  res.end(body);
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  send(res, status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(body));

/** Reads the body; `undefined` when it is larger than `limit` (the rest is read and dropped). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The API Gateway REST proxy event for a request. */
function proxyEvent(
  req: IncomingMessage,
  url: URL,
  resource: string,
  stream: string | undefined,
  body: Buffer,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    multiQuery[k] = [...(multiQuery[k] ?? []), v];
  }
  // API Gateway passes a text body as a string; bytes that are not UTF-8 arrive base64-encoded.
  const text = isUtf8(body);
  const requestId = randomUUID();
  return {
    resource,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length > 0 ? multiQuery : null,
    pathParameters: stream === undefined ? null : { stream },
    stageVariables: null,
    body: body.byteLength === 0 ? null : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.byteLength > 0 && !text,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? null,
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
    },
  };
}

export function createApiServer(options: ApiServerOptions): Server {
  const fn = { name: 'producer', timeoutSeconds: options.timeoutSeconds ?? 30, memoryMb: 512 };
  const analyticsFn = { name: 'analytics-api', timeoutSeconds: 30, memoryMb: 256 };
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (options.analytics && url.pathname === ANALYTICS_ROUTE) {
        // A GET has no body; another method gets the function's 405 (Allow: GET), as in AWS.
        req.resume();
        const event = proxyEvent(req, url, ANALYTICS_ROUTE, undefined, Buffer.alloc(0));
        const result = await invoke(analyticsFn, options.analytics, event);
        const status = result.ok && result.value ? result.value.statusCode : 502;
        if (!result.ok || !result.value) json(res, 502, { message: 'Internal server error' });
        else send(res, status, { ...(result.value.headers ?? {}) }, result.value.body);
        options.onRequest?.(ANALYTICS_ROUTE, status, undefined, '');
        return;
      }
      const route = ROUTES.find((r) => r.pattern.test(url.pathname));
      if (route) {
        const stream = decodeURIComponent(route.pattern.exec(url.pathname)?.[1] ?? '');
        if (req.method !== 'POST') {
          req.resume();
          json(
            res,
            405,
            { error: 'MethodNotAllowed', message: `${req.method} is not allowed here; use POST` },
            { allow: 'POST' },
          );
          options.onRequest?.(route.resource, 405, stream, '');
          return;
        }
        const body = await readBody(req, MAX_BODY_BYTES);
        if (!body) {
          json(res, 413, {
            error: 'PayloadTooLarge',
            message: `the body is larger than ${MAX_BODY_BYTES} bytes`,
          });
          options.onRequest?.(route.resource, 413, stream, '');
          return;
        }
        const result = await invoke(fn, options.producer, proxyEvent(req, url, route.resource, stream, body));
        if (!result.ok || !result.value) {
          // What API Gateway answers when the integration fails: a 502 without internals.
          json(res, 502, { message: 'Internal server error' });
          options.onRequest?.(route.resource, 502, stream, '');
          return;
        }
        const response = result.value;
        const headers = { ...(response.headers ?? {}) } as Record<string, string | number | boolean>;
        const payload = response.isBase64Encoded
          ? Buffer.from(response.body, 'base64').toString()
          : response.body;
        send(res, response.statusCode, headers, payload);
        options.onRequest?.(route.resource, response.statusCode, stream, payload);
        return;
      }
      const action = req.method === 'POST' ? options.actions?.[url.pathname] : undefined;
      if (action) {
        const body = await readBody(req, ACTION_BODY_LIMIT);
        if (!body) {
          return json(res, 413, {
            error: 'PayloadTooLarge',
            message: `the body is larger than ${ACTION_BODY_LIMIT} bytes`,
          });
        }
        const result = await action(req, body);
        return send(res, result.status ?? 200, { 'content-type': result.contentType }, result.body);
      }
      req.resume();
      if (req.method === 'GET' && url.pathname === '/openapi.json')
        return json(res, 200, buildOpenApiDocument());
      if (req.method === 'GET' && url.pathname === '/health') {
        const health = await options.health();
        return json(res, health.healthy ? 200 : 503, health);
      }
      if (req.method === 'GET' && url.pathname === '/metrics') {
        const { contentType, body } = await options.metrics();
        return send(res, 200, { 'content-type': contentType }, body);
      }
      const page = req.method === 'GET' ? options.pages?.[url.pathname] : undefined;
      if (page) {
        const { status, contentType, body } = await page(req);
        return send(res, status ?? 200, { 'content-type': contentType }, body);
      }
      json(res, 404, { error: 'NotFound', message: `no route for ${req.method} ${url.pathname}` });
    } catch (error) {
      if (!res.headersSent) json(res, 500, { error: 'InternalError', message: (error as Error).message });
      else res.destroy();
    }
  });
}
