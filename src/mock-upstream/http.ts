import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { OpenAIHttpError } from './errors.js';
import type { RequestSettings } from './options.js';
import type { MockState, RecordedRequest } from './state.js';

/** A request and its response: all that sending an answer needs. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  /** performance.now() on arrival, for openai-processing-ms. */
  readonly started: number;
  readonly state: MockState;
  readonly record: RecordedRequest;
}

/** A routed request, with the settings its headers chose. */
export interface Ctx extends Exchange {
  readonly query: URLSearchParams;
  /** Captures of the matched route's pattern, URL-decoded. */
  readonly params: readonly string[];
  readonly settings: RequestSettings;
}

// Values as a quiet OpenAI account sees them; static, so built once.
const STATIC_HEADERS: OutgoingHttpHeaders = {
  'openai-version': '2020-10-01',
  'openai-organization': 'user-mock',
  'x-ratelimit-limit-requests': '10000',
  'x-ratelimit-remaining-requests': '9999',
  'x-ratelimit-reset-requests': '6ms',
  'x-ratelimit-limit-tokens': '30000000',
  'x-ratelimit-remaining-tokens': '29999000',
  'x-ratelimit-reset-tokens': '2ms',
};

export function responseHeaders(ctx: Exchange, extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return {
    ...STATIC_HEADERS,
    ...ctx.state.opts.rateLimitHeaders,
    'x-request-id': ctx.requestId,
    'openai-processing-ms': String(Math.round(performance.now() - ctx.started)),
    ...extra,
  };
}

/**
 * Sends `body` whole; a routed answer (`ctx` with settings) with `x-mock-cut-after: N` sends its
 * full content-length but only N bytes of the body, then resets the connection.
 */
export function sendBytes(
  ctx: Exchange & { settings?: RequestSettings },
  status: number,
  contentType: string,
  body: Buffer | string,
  extra: OutgoingHttpHeaders = {},
): void {
  const length = Buffer.byteLength(body);
  const cut = ctx.settings?.cutAfter;
  ctx.res.writeHead(status, responseHeaders(ctx, { 'content-type': contentType, 'content-length': length, ...extra }));
  if (cut !== undefined && cut < length) {
    const part = Buffer.from(body).subarray(0, cut);
    ctx.state.stats.bytesOut += part.length;
    resetAfter(ctx.res, part);
    return;
  }
  ctx.state.stats.bytesOut += length;
  ctx.res.end(body);
}

/**
 * Writes `last` (if any), then resets the TCP connection (RST) once the bytes are handed to the
 * kernel: the client gets what was written and then a reset, never the response's clean end.
 */
export function resetAfter(res: ServerResponse, last: Buffer | string): void {
  const reset = () => (res.socket ? res.socket.resetAndDestroy() : res.destroy());
  if (res.destroyed) return;
  if (last.length === 0) res.flushHeaders();
  res.write(last, reset);
}

/** Sends `body` as JSON; a Buffer is taken as already-encoded JSON. */
export function sendJson(ctx: Exchange, body: unknown, status = 200): void {
  sendBytes(ctx, status, 'application/json', Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

export function sendError(ctx: Exchange, err: OpenAIHttpError): void {
  sendBytes(ctx, err.status, 'application/json', JSON.stringify({ error: err.body }), err.headers);
}
