import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { Dispatcher } from 'undici';
import { AppError, errors, fromUnexpected } from '../errors.js';
import type { RequestCounter } from '../limits/request-counter.js';
import type { Logger } from '../observability/logger.js';
import type { Authenticator, TokenIdentity } from '../tokens/authenticator.js';
import type { UsageRecord } from '../usage/usage-writer.js';
import { clientResponseHeaders, presentedToken, upstreamRequestHeaders } from './headers.js';
import { INCLUDE_USAGE_PATHS, IncludeUsageFilter, withIncludeUsage } from './include-usage.js';
import type { UpstreamPools } from './upstream-pools.js';
import { type CapturedUsage, emptyUsage } from './usage-extract.js';
import { JsonUsageSniffer, SseUsageSniffer, type UsageSniffer } from './usage-sniffer.js';

export const REQUEST_ID_HEADER = 'x-llm-proxy-request-id';

/** Request bodies of completion endpoints up to this size are read to add include_usage. */
const MAX_INSPECTED_BODY = 16 * 1024 * 1024;

export interface ProxyDeps {
  authenticator: Authenticator;
  counter: RequestCounter;
  pools: UpstreamPools;
  recordUsage: (rec: UsageRecord) => void;
  logger: Logger;
  bodyLimitBytes: number;
  streamIncludeUsage: boolean;
}

/** Per-request state, gathered as the request moves along and written once as a usage record. */
interface Exchange {
  id: string;
  t0: number;
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  identity?: TokenIdentity;
  tSent?: number;
  tHeaders?: number;
  tFirstByte?: number;
  status: number;
  stream: boolean;
  bytesIn: number;
  bytesOut: number;
  error: string | null;
  usage: CapturedUsage;
  clientGone: boolean;
}

/**
 * The hot path: authenticate → cap → forward → stream back → account. Bodies flow as streams in
 * both directions; the only I/O awaited is the upstream itself (and the database on a token
 * cache miss). Usage goes to a batched writer after the response has been handed to the client.
 */
export async function forward(req: IncomingMessage, res: ServerResponse, id: string, deps: ProxyDeps): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const x: Exchange = {
    id,
    t0: performance.now(),
    req,
    res,
    path: q === -1 ? url : url.slice(0, q),
    status: 0,
    stream: false,
    bytesIn: 0,
    bytesOut: 0,
    error: null,
    usage: emptyUsage(),
    clientGone: false,
  };
  res.setHeader(REQUEST_ID_HEADER, id);

  const token = presentedToken(req.headers);
  if (!token) return refuse(x, errors.missingApiKey(), deps);
  try {
    x.identity = await deps.authenticator.authenticate(token);
  } catch (err) {
    if (!(err instanceof AppError))
      deps.logger.error({ err: (err as Error).message, request_id: id }, 'token lookup failed');
    return refuse(x, err instanceof AppError ? err : fromUnexpected(err), deps);
  }
  const identity = x.identity;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > deps.bodyLimitBytes) return refuse(x, errors.bodyTooLarge(deps.bodyLimitBytes), deps);
  deps.counter.seed(identity.tokenId, identity.requestCount);
  if (!deps.counter.tryAcquire(identity.tokenId, identity.maxRequests)) {
    return refuse(x, errors.requestLimitReached(identity.maxRequests ?? 0), deps);
  }

  // From here on the request counts: every path below ends in exactly one usage record.
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) {
      x.clientGone = true;
      abort.abort();
    }
  });

  let upstream: Dispatcher.ResponseData;
  let injected = false;
  try {
    const headers = upstreamRequestHeaders(req.headers, identity.upstreamKey);
    const body = await requestBody(x, deps, headers);
    injected = body.injected;
    const base = new URL(identity.upstreamBase);
    x.tSent = performance.now();
    upstream = await deps.pools.get(base.origin).request({
      method: req.method as Dispatcher.HttpMethod,
      path: base.pathname.replace(/\/$/, '') + url,
      headers,
      body: body.body,
      signal: abort.signal,
    });
  } catch (err) {
    return failBeforeHeaders(x, err, deps);
  }

  x.tHeaders = performance.now();
  x.status = upstream.statusCode;
  const out = clientResponseHeaders(upstream.headers);
  const contentType = String(upstream.headers['content-type'] ?? '');
  x.stream = contentType.startsWith('text/event-stream');
  let sniffer: UsageSniffer | undefined;
  let filter: IncludeUsageFilter | undefined;
  if (x.stream) {
    const sse = new SseUsageSniffer();
    sniffer = sse;
    out['x-accel-buffering'] = 'no';
    if (injected) {
      // The filter reads every event itself, so it also feeds the sniffer.
      filter = new IncludeUsageFilter(sse);
      delete out['content-length'];
    }
  } else if (contentType.includes('json')) sniffer = new JsonUsageSniffer();

  out[REQUEST_ID_HEADER] = id;
  const proxyMs = x.tSent - x.t0 + (performance.now() - x.tHeaders);
  const timing = `proxy;dur=${proxyMs.toFixed(3)}, upstream;dur=${(x.tHeaders - x.tSent).toFixed(3)}`;
  const upstreamTiming = out['server-timing'];
  out['server-timing'] = upstreamTiming ? `${String(upstreamTiming)}, ${timing}` : timing;
  res.writeHead(x.status, out);
  if (x.stream) res.flushHeaders();

  const source: Readable = filter ? pipeline(upstream.body, filter, () => {}) : upstream.body;
  try {
    await pump(source, res, (chunk) => {
      x.tFirstByte ??= performance.now();
      x.bytesOut += chunk.length;
      if (!filter) sniffer?.push(chunk);
    });
    res.end();
  } catch (err) {
    x.error = x.clientGone ? 'client_aborted' : upstreamStreamError(err);
    upstream.body.destroy();
    res.destroy();
  }
  if (sniffer) x.usage = sniffer.finish();
  account(x, deps);
}

interface PreparedBody {
  body: Readable | Buffer | null;
  /** True when include_usage was added: the streamed reply must be filtered back. */
  injected: boolean;
}

/**
 * The upstream body: nothing for bodiless requests, the client's stream as is (with a byte limit
 * when its length is not declared), or, for a streamed completion that did not ask for usage,
 * the body with `stream_options.include_usage` added.
 */
async function requestBody(
  x: Exchange,
  deps: ProxyDeps,
  headers: Record<string, string | string[]>,
): Promise<PreparedBody> {
  const { req } = x;
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return { body: null, injected: false };
  if (
    deps.streamIncludeUsage &&
    req.method === 'POST' &&
    INCLUDE_USAGE_PATHS.has(x.path) &&
    String(req.headers['content-type'] ?? '').includes('json') &&
    Number(length ?? 0) <= MAX_INSPECTED_BODY &&
    !chunked
  ) {
    const original = await readAll(req);
    x.bytesIn = original.length;
    const rewritten = withIncludeUsage(original);
    if (!rewritten) return { body: original, injected: false };
    headers['content-length'] = String(rewritten.length);
    return { body: rewritten, injected: true };
  }
  if (!chunked) {
    x.bytesIn = Number(length);
    return { body: req, injected: false };
  }
  delete headers['content-length'];
  return { body: pipeline(req, new ByteLimit(deps.bodyLimitBytes, x), () => {}), injected: false };
}

/** Counts a chunked request body and fails it past the limit (declared lengths are checked up front). */
class ByteLimit extends Transform {
  constructor(
    private readonly limit: number,
    private readonly x: Exchange,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.x.bytesIn += chunk.length;
    if (this.x.bytesIn > this.limit) done(errors.bodyTooLarge(this.limit));
    else done(null, chunk);
  }
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('client aborted the request body')));
  });
}

/** Copies source to the response with backpressure, calling onChunk for each chunk written. */
function pump(source: Readable, res: ServerResponse, onChunk: (c: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      onChunk(chunk);
      if (!res.write(chunk)) source.pause();
    };
    const onDrain = () => source.resume();
    const onClose = () => finish(new Error('client closed the connection'));
    source.on('data', onData);
    res.on('drain', onDrain);
    res.once('close', onClose);
    source.once('end', () => finish());
    source.once('error', finish);
  });
}

function upstreamStreamError(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'upstream_idle_timeout';
  return 'upstream_stream_error';
}

/** Errors before any response byte: answer in OpenAI's error shape (unless the client is gone). */
function failBeforeHeaders(x: Exchange, err: unknown, deps: ProxyDeps): void {
  if (x.clientGone) {
    x.status = 499;
    x.error = 'client_aborted';
    account(x, deps);
    return;
  }
  const code = (err as { code?: string }).code;
  let appErr: AppError;
  if (err instanceof AppError) appErr = err;
  else if (code === 'UND_ERR_HEADERS_TIMEOUT') appErr = errors.upstreamTimeout('waiting for response headers');
  else if (code === 'UND_ERR_CONNECT_TIMEOUT') appErr = errors.upstreamTimeout('connecting');
  else appErr = errors.upstreamUnavailable(describeNetworkError(err));
  x.error = appErr.code;
  discardBody(x);
  sendError(x, appErr);
  account(x, deps);
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? 'connection failed';
}

/** A refusal by the proxy itself (401, 413, 429): logged, never forwarded, not a usage record. */
function refuse(x: Exchange, err: AppError, deps: ProxyDeps): void {
  discardBody(x);
  sendError(x, err);
  deps.logger.info(
    {
      request_id: x.id,
      method: x.req.method,
      path: x.path,
      status: err.status,
      code: err.code,
      token_id: x.identity?.tokenId,
    },
    'proxy refused',
  );
}

/**
 * A body that will not be forwarded is drained and discarded, and the connection closed after
 * the reply, so the client reads our answer instead of a reset.
 */
function discardBody(x: Exchange): void {
  if (x.req.complete || x.res.headersSent) return;
  x.res.setHeader('connection', 'close');
  x.req.resume();
}

function sendError(x: Exchange, err: AppError): void {
  x.status = err.status;
  if (x.res.headersSent) return;
  const body = JSON.stringify(err.toBody());
  x.res.writeHead(err.status, {
    ...err.extra.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: x.id,
    // The contract promises Server-Timing on every response, the proxy's own answers included.
    'server-timing': `proxy;dur=${(performance.now() - x.t0).toFixed(3)}`,
  });
  x.res.end(body);
  x.bytesOut = Buffer.byteLength(body);
}

function account(x: Exchange, deps: ProxyDeps): void {
  const identity = x.identity as TokenIdentity;
  const end = performance.now();
  const ms = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? null : round(b - a);
  const u = x.usage;
  const rec: UsageRecord = {
    request_id: x.id,
    token_id: identity.tokenId,
    project_id: identity.projectId,
    method: x.req.method ?? 'GET',
    path: x.path,
    model: u.model,
    status: x.status,
    is_stream: x.stream ? 1 : 0,
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.totalTokens,
    cached_tokens: u.cachedTokens,
    reasoning_tokens: u.reasoningTokens,
    finish_reason: u.finishReason,
    upstream_ms: ms(x.tSent, x.tHeaders),
    ttfb_ms: ms(x.t0, x.tFirstByte),
    duration_ms: round(end - x.t0),
    bytes_in: x.bytesIn,
    bytes_out: x.bytesOut,
    error: x.error,
    created_at: Date.now(),
  };
  deps.recordUsage(rec);
  deps.logger.info(
    {
      request_id: x.id,
      token_id: rec.token_id,
      project_id: rec.project_id,
      method: rec.method,
      path: rec.path,
      status: rec.status,
      model: rec.model,
      stream: x.stream,
      total_tokens: rec.total_tokens,
      duration_ms: rec.duration_ms,
      upstream_ms: rec.upstream_ms,
      error: rec.error ?? undefined,
    },
    'proxy request',
  );
}

const round = (n: number) => Math.round(n * 1000) / 1000;
