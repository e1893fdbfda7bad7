import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { uuidv7 } from '../crypto/ids.js';
import { type AppError, errors } from '../errors.js';
import { REQUEST_ID_HEADER, rawErrorResponse } from '../proxy/reply.js';
import { FORWARDED_METHODS } from '../proxy/request-line.js';

/** Requests that came with `Expect: 100-continue` and have not had their `100 Continue` yet. */
const awaitingContinue = new WeakSet<IncomingMessage>();

/** Whether this request waits for a `100 Continue` that whoever serves it must send (once). */
export const expectsContinue = (req: IncomingMessage): boolean => awaitingContinue.has(req);

/**
 * The node:http events that bypass 'request', answered on the proxy's terms:
 * - `Expect: 100-continue` ('checkContinue'): no automatic 100. The request goes on as a normal
 *   'request' (so connection tracking and routing see it), marked: the proxy sends the 100 once
 *   the request is admitted, so a refused client never uploads its body; other routes send it
 *   at once.
 * - any other expectation ('checkExpectation'): 417 in OpenAI's error shape (RFC 9110 §10.1.1).
 * - CONNECT ('connect', which hands over the raw socket): 405 with `Allow`, then the socket is
 *   closed. The proxy is not a tunnel; without a listener Node would drop the connection. Over
 *   HTTP/2 CONNECT is a stream like any other, and gets the same 405 as a response on it.
 * HTTP/2 has no `Connection` header (a stream ends, not the connection): it is left out there.
 */
export function answerSpecialRequests(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    awaitingContinue.add(req);
    server.emit('request', req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    // The body that may follow is not read: close the connection after the answer (HTTP/1.1).
    const { head, body } = errorReply(
      errors.expectationFailed(String(req.headers.expect ?? '')),
      req.httpVersionMajor !== 2,
    );
    res.writeHead(head.status, head.headers);
    res.end(body);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex | Http2ServerResponse) => {
    const err = errors.methodNotAllowed(req.method ?? 'CONNECT', FORWARDED_METHODS);
    if (socket instanceof Http2ServerResponse) {
      const { head, body } = errorReply(err, false);
      socket.writeHead(head.status, head.headers);
      socket.end(body);
      return;
    }
    socket.on('error', () => {});
    socket.end(rawErrorResponse(err, uuidv7()));
  });
}

/** An error's status, headers and JSON body, for the replies written outside the proxy and Fastify. */
function errorReply(err: AppError, closeConnection: boolean) {
  const body = JSON.stringify(err.toBody());
  const headers: Record<string, string | number> = {
    ...err.headers(),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: uuidv7(),
    ...(closeConnection ? { connection: 'close' } : {}),
  };
  return { head: { status: err.status, headers }, body };
}

/**
 * The `upgrade` event: a WebSocket upgrade goes to `onWebSocket` (the proxy's Realtime gateway,
 * which refuses other paths). Any other upgrade (`Upgrade: h2c`, which curl --http2 sends over
 * plain HTTP) is served as the plain HTTP/1.1 request it also is, as Node does with no listener,
 * on a connection closed after the response; one with a body is refused, as its body was not read.
 */
export function answerUpgrades(
  server: Server,
  onWebSocket: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (String(req.headers.upgrade ?? '').toLowerCase() === 'websocket') return onWebSocket(req, socket, head);
    socket.on('error', () => {});
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) {
      socket.end(rawErrorResponse(errors.validation(`Upgrade to ${req.headers.upgrade} is not supported.`), uuidv7()));
      return;
    }
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.on('finish', () => {
      res.detachSocket(socket as Socket);
      socket.end();
    });
    server.emit('request', req, res);
  });
}
