import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { uuidv7 } from '../crypto/ids.js';
import { type AppError, errors } from '../errors.js';
import { REQUEST_ID_HEADER } from '../proxy/reply.js';
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
 *   closed. The proxy is not a tunnel; without a listener Node would drop the connection.
 */
export function answerSpecialRequests(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    awaitingContinue.add(req);
    server.emit('request', req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const err = errors.expectationFailed(String(req.headers.expect ?? ''));
    const body = JSON.stringify(err.toBody());
    // The body that may follow is not read: close the connection after the answer.
    res.writeHead(err.status, {
      ...err.headers(),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [REQUEST_ID_HEADER]: uuidv7(),
      connection: 'close',
    });
    res.end(body);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    socket.end(rawResponse(errors.methodNotAllowed(req.method ?? 'CONNECT', FORWARDED_METHODS)));
  });
}

/** A complete HTTP/1.1 response as text, for a socket no ServerResponse is attached to. */
function rawResponse(err: AppError): string {
  const body = JSON.stringify(err.toBody());
  const headers: Record<string, string | number> = {
    ...err.headers(),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: uuidv7(),
    connection: 'close',
  };
  let head = `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status]}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n${body}`;
}
