import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AppError } from '../errors.js';
import { traceFields } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { ProxyHooks } from './hooks.js';
import type { ProxyRequest } from './proxy-request.js';

export const REQUEST_ID_HEADER = 'x-llm-proxy-request-id';

/**
 * A refusal by the proxy itself (400, 401, 403, 405, 408, 413, 429, 503): answered in OpenAI's
 * error shape, logged, never forwarded, not a usage record.
 */
export function refuse(pr: ProxyRequest, err: AppError, logger: Logger, hooks: ProxyHooks | undefined): Promise<void> {
  discardBody(pr);
  sendError(pr, err);
  logger.info(
    {
      request_id: pr.id,
      method: pr.method,
      path: pr.path,
      status: err.status,
      code: err.code,
      token_id: pr.identity?.tokenId,
      ...traceFields(pr.trace),
    },
    'proxy refused',
  );
  hooks?.refused?.(pr, err);
  return Promise.resolve();
}

/**
 * A body that will not be forwarded is drained and discarded, and the connection closed after
 * the reply, so the client reads our answer instead of a reset (HTTP/2: only the stream ends).
 */
export function discardBody(pr: ProxyRequest): void {
  if (pr.req.complete || pr.res.headersSent) return;
  if (pr.req.httpVersionMajor !== 2) pr.res.setHeader('connection', 'close');
  pr.req.resume();
}

/** Writes the error (unless a response has started); returns the body's length in bytes. */
export function sendError(pr: ProxyRequest, err: AppError): number {
  if (pr.res.headersSent) return 0;
  const body = JSON.stringify(err.toBody());
  const length = Buffer.byteLength(body);
  pr.res.writeHead(err.status, {
    ...err.headers(),
    'content-type': 'application/json',
    'content-length': length,
    [REQUEST_ID_HEADER]: pr.id,
    // The contract promises Server-Timing on every response, the proxy's own answers included.
    'server-timing': `proxy;dur=${(performance.now() - pr.t0).toFixed(3)}`,
  });
  pr.res.end(body);
  return length;
}

/**
 * A complete HTTP/1.1 error response as text, for a socket no ServerResponse is attached to (a
 * refused CONNECT or WebSocket upgrade); the connection closes after it.
 */
export function rawErrorResponse(err: AppError, requestId: string): string {
  const body = JSON.stringify(err.toBody());
  const headers: Record<string, string | number> = {
    ...err.headers(),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: requestId,
    connection: 'close',
  };
  let text = `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status]}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return `${text}\r\n${body}`;
}
