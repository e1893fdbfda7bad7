import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { completeAll, expireAll } from './batches.js';
import { drain } from './body.js';
import { control, hold, releaseHeld } from './control.js';
import { invalidApiKey, OpenAIHttpError, statusError, unknownUrl } from './errors.js';
import { FileStore } from './file-store.js';
import { type Exchange, sendError } from './http.js';
import { Ledger, type LedgerEntry } from './ledger.js';
import { type MockUpstreamOptions, requestSettings, resolveOptions } from './options.js';
import { RealtimeMock, type RealtimeMockSession } from './realtime.js';
import { matchRoute } from './routes.js';
import { type MockState, type MockStats, newStats, type RecordedRequest, RequestLog, resetState } from './state.js';
import { randomId } from './text.js';

export interface MockUpstream {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:41234` (`https://` with `tls`). */
  url: string;
  port: number;
  /** Closes every connection (open streams count as aborted) and removes the temp files dir. */
  close(): Promise<void>;
  stats(): MockStats;
  /** The last 1000 requests, oldest first. */
  requests(): RecordedRequest[];
  /** What the mock billed so far, oldest first (ledger.ts; the last 100,000 entries). */
  ledger(): LedgerEntry[];
  /** Zeroes the stats, forgets recorded requests and empties the ledger; files, batches and background responses stay. */
  reset(): void;
  /** Lets the requests held by `x-mock-hold: 1` go on; returns how many there were. */
  release(): number;
  /** Realtime WebSocket sessions so far, oldest first, with every frame received and the usage billed. */
  realtimeSessions(): RealtimeMockSession[];
  /** Runs every unfinished batch to its end now (a cancelling one ends cancelled); resolves how many. */
  completeBatches(): Promise<number>;
  /** Expires every unfinished batch now, with the lines it had done; resolves how many. */
  expireBatches(): Promise<number>;
}

function headerRecord(raw: readonly string[]): Record<string, string> {
  // No prototype, so a header named __proto__ is just a header.
  const headers: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    // HTTP/2's pseudo-headers (:method, :path…) are the request line, not headers.
    if (name.startsWith(':')) continue;
    const value = raw[i + 1] ?? '';
    const seen = headers[name];
    headers[name] = seen === undefined ? value : `${seen}, ${value}`;
  }
  return headers;
}

async function fail(exchange: Exchange, err: unknown): Promise<void> {
  const { req, res } = exchange;
  // Mid-response there is no status left to send; a reset tells the client the body is incomplete.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const error =
    err instanceof OpenAIHttpError
      ? err
      : new OpenAIHttpError(500, {
          message: `The mock upstream failed: ${err instanceof Error ? err.message : String(err)}`,
          type: 'server_error',
          param: null,
          code: null,
        });
  // Read what the client is still sending, so it sees the answer and the connection stays usable.
  if (!req.readableEnded) await drain(exchange);
  sendError(exchange, error);
}

async function handle(state: MockState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  if (path.startsWith('/__mock/')) return control(state, req, res, path);

  const method = req.method ?? 'GET';
  const record: RecordedRequest = {
    method,
    path: url,
    headers: headerRecord(req.rawHeaders),
    bodyBytes: 0,
    at: Date.now(),
    httpVersion: req.httpVersion,
  };
  state.stats.requests++;
  state.log.add(record);
  const exchange: Exchange = { req, res, requestId: randomId('req_', 16), started, state, record };
  try {
    const settings = requestSettings(req.headers, state.opts);
    if (settings.latencyMs > 0) await atLeast(settings.latencyMs);
    if (settings.hold) await hold(state, res);
    const { apiKey, authStyle } = state.opts;
    const auth = authStyle === 'api-key' ? req.headers['api-key'] : req.headers.authorization;
    const expected = authStyle === 'api-key' ? apiKey : `Bearer ${apiKey}`;
    if (apiKey !== undefined && auth !== expected) throw invalidApiKey(auth !== undefined);
    if (settings.status !== undefined) throw statusError(settings.status);
    const route = matchRoute(method, path);
    if (!route) throw unknownUrl(method, path);
    const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
    await route.handler({ ...exchange, query, params: route.params, settings });
  } catch (err) {
    await fail(exchange, err);
  }
}

/** Starts a fake OpenAI API; see MockUpstreamOptions for the knobs and MOCK_HEADERS for per-request ones. */
export async function startMockUpstream(options?: MockUpstreamOptions): Promise<MockUpstream> {
  const opts = resolveOptions(options);
  const ownsDir = opts.filesDir === undefined;
  const dir = opts.filesDir ?? (await mkdtemp(join(tmpdir(), 'llm-proxy-mock-')));
  await mkdir(dir, { recursive: true });
  const state: MockState = {
    opts,
    stats: newStats(),
    log: new RequestLog(),
    files: new FileStore(dir),
    batches: new Map(),
    ledger: new Ledger(),
    responses: new Map(),
    holds: new Set(),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // handle() answers its own failures; this only catches a failure to do even that.
    handle(state, req, res).catch(() => res.destroy());
  };
  // With TLS, Node's HTTP/2 compatibility layer: its request and response act as node:http's do.
  const server = opts.tls
    ? createSecureServer({ ...opts.tls, allowHTTP1: true }, onRequest as never)
    : createServer(onRequest);
  // Every connection, to close them all (an HTTP/2 server has no closeAllConnections).
  const sockets = new Set<Socket>();
  // The Realtime API's WebSocket (HTTP/1.1 upgrade, with or without TLS).
  const realtime = new RealtimeMock(opts, state.ledger);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => realtime.upgrade(req, socket, head));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const removeDir = () => (ownsDir ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  try {
    // A benchmark opens 1,000 connections at once; Node's default backlog (511) drops some SYNs.
    server.listen({ port: opts.port, host: opts.host, backlog: 4096 });
    await once(server, 'listening');
  } catch (err) {
    await removeDir();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        const closed = once(server, 'close');
        server.close();
        realtime.close();
        for (const socket of sockets) socket.destroy();
        await closed;
        await removeDir();
      })();
      return closing;
    },
    stats: () => ({ ...state.stats }),
    requests: () => state.log.list(),
    ledger: () => state.ledger.list(),
    reset: () => resetState(state),
    release: () => releaseHeld(state),
    realtimeSessions: () => realtime.sessions,
    completeBatches: () => completeAll(state),
    expireBatches: () => expireAll(state),
  };
}

/**
 * Waits `ms` or more by the monotonic clock. A Node timer counts from the event loop's cached time,
 * which a busy iteration leaves behind, so on a loaded machine it can fire a little early: a
 * "20 ms upstream" answered in 19.8 ms would make a latency measured against it look too fast.
 */
async function atLeast(ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) await sleep(Math.ceil(left));
}
