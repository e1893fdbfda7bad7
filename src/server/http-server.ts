import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createServer as createHttp2Server,
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
} from 'node:http2';
import { trackConnections } from './connections.js';
import { serveCleartextHttp2 } from './h2c.js';
import { answerSpecialRequests } from './http-events.js';
import { secureContextOptions, type TlsPair } from './tls.js';

/**
 * How the port speaks: plain HTTP/1.1; HTTP/1.1 and cleartext HTTP/2; HTTPS with HTTP/2 and
 * HTTP/1.1. The TLS kind holds the pair served now and every server made with it (Fastify makes a
 * second one for `localhost`, which binds two addresses), so a reload reaches them all.
 */
export type Transport = { kind: 'http' } | { kind: 'h2c' } | TlsTransport;

export interface TlsTransport {
  kind: 'tls';
  pair: TlsPair;
  servers: Http2SecureServer[];
}

/** Serves `pair` on every server of the transport from now on (new connections; open ones keep theirs). */
export function setTlsPair(transport: TlsTransport, pair: TlsPair): void {
  for (const server of transport.servers) server.setSecureContext(secureContextOptions(pair));
  transport.pair = pair;
}

/** Streams one HTTP/2 connection may have open at once (nginx's default): more wait in the client. */
const MAX_CONCURRENT_STREAMS = 128;

/**
 * Connections the kernel queues before the server accepts them (capped by net.core.somaxconn,
 * 4096 on Linux since 5.4). Node's default of 511 overflowed when 1,000 clients connected at once:
 * the dropped SYNs were retried after 1 s and 3 s, which a client sees as time to first byte.
 */
export const LISTEN_BACKLOG = 4096;

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The one server of the port. HTTP/2 requests reach `onRequest` through node:http2's compatibility
 * API, which has the shape of node:http's request and response, so the proxy and Fastify serve
 * both alike. Whatever the kind, the server is typed as node:http's (what Fastify and main.ts see);
 * the HTTP/2 kinds get `closeIdleConnections`/`closeAllConnections` from connection tracking,
 * which knows their sessions.
 */
export function createHttpServer(transport: Transport, onRequest: RequestListener, keepAliveTimeoutMs: number): Server {
  if (transport.kind === 'http') {
    const server = createServer({ noDelay: true }, onRequest);
    answerSpecialRequests(server);
    server.keepAliveTimeout = keepAliveTimeoutMs;
    return server;
  }
  if (transport.kind === 'tls') {
    const secure = createSecureServer(
      {
        ...secureContextOptions(transport.pair),
        // ALPN: h2 for clients that offer it, HTTP/1.1 (served by node:http) for the rest.
        allowHTTP1: true,
        noDelay: true,
        settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
      },
      onRequest as never,
    );
    transport.servers.push(secure);
    const server = secure as unknown as Server;
    answerSpecialRequests(server);
    // The HTTP/1.1 connections of this server follow node:http's settings of the same names.
    server.keepAliveTimeout = keepAliveTimeoutMs;
    // node:http adds this to the keep-alive timeout; Node 22's HTTP/2 server lacks it (NaN, a throw
    // after every keep-alive response), so it gets node:http's default.
    const buffered = server as Server & { keepAliveTimeoutBuffer?: number };
    if (typeof buffered.keepAliveTimeoutBuffer !== 'number') buffered.keepAliveTimeoutBuffer = 1_000;
    closeIdleSessions(server, keepAliveTimeoutMs);
    return withTrackedClosing(server);
  }
  const server = createServer({ noDelay: true }, onRequest);
  answerSpecialRequests(server);
  server.keepAliveTimeout = keepAliveTimeoutMs;
  const h2 = createHttp2Server({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } }, onRequest as never);
  answerSpecialRequests(h2 as unknown as Server);
  serveCleartextHttp2(server, h2);
  closeIdleSessions(server, keepAliveTimeoutMs);
  return withTrackedClosing(server);
}

/**
 * An HTTP/2 connection with no frame for the keep-alive time is closed gracefully (a GOAWAY), as
 * an idle HTTP/1.1 keep-alive connection is: a stream still open finishes first.
 */
function closeIdleSessions(server: Server, idleMs: number): void {
  server.on('session', (session: Http2Session) => {
    session.setTimeout(idleMs, () => session.close());
  });
}

/** Node's own closeIdleConnections/closeAllConnections know only HTTP/1.1 sockets: the tracker knows all. */
function withTrackedClosing(server: Server): Server {
  const connections = trackConnections(server);
  server.closeIdleConnections = () => connections.closeIdle();
  server.closeAllConnections = () => connections.closeAll();
  return server;
}
