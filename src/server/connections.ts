import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { isCleartextHttp2 } from './h2c.js';

export interface Connections {
  /**
   * Closes what is doing nothing: HTTP/1.1 sockets without a request in flight (idle keep-alive
   * ones, and ones that connected but never sent a request, which Node's own closeIdleConnections
   * misses). HTTP/2 connections are told to take no new streams (GOAWAY): those in flight finish,
   * then the connection closes. `idleForMs`: only HTTP/1.1 sockets idle at least that long, and
   * seen so by an earlier call too (the drain's reaper calls every 100 ms), so that a request
   * whose bytes arrived while the event loop was busy is read before its connection is judged.
   */
  closeIdle(idleForMs?: number): void;
  /**
   * From now on every HTTP/1.1 response says `Connection: close`, so its client opens its next
   * request's connection elsewhere (shutdown: the only way to end a keep-alive connection that no
   * client can be sending on at that instant).
   */
  retire(): void;
  /** Destroys every connection, busy or not (the shutdown deadline). */
  closeAll(): void;
}

/** One TCP connection; `requests` counts HTTP/1.1 requests in flight on it. */
interface Conn {
  requests: number;
  /** performance.now() when its last request finished (or it connected). */
  idleSince: number;
  /** The `idleSince` a timed closeIdle last found past its limit (the socket is closed if the next finds it unchanged). */
  overdue?: number;
  /** Serves an HTTP/2 session (TLS with ALPN h2, or cleartext h2c): its streams are the session's. */
  http2: boolean;
  /**
   * Upgraded (a Realtime API WebSocket): never idle, whatever its request count says; its session
   * is closed by the gateway's drain with a close frame, or at the deadline by closeAll.
   */
  upgraded?: boolean;
}

const trackers = new WeakMap<Server, Connections>();

/**
 * Tracks the server's connections and how many requests each has in flight, so shutdown can close
 * the ones doing nothing. Works for every server app.ts builds: plain HTTP/1.1, HTTPS with HTTP/2
 * and HTTP/1.1 on one port (requests then arrive on the TLS socket over the TCP one), and
 * cleartext HTTP/2 beside HTTP/1.1. Called once per server; later calls return the same tracker.
 */
export function trackConnections(server: Server): Connections {
  const existing = trackers.get(server);
  if (existing) return existing;
  const conns = new Map<Socket, Conn>();
  // The socket requests arrive on (the TCP socket, or the TLS socket over it) to its connection.
  const bySocket = new WeakMap<Socket, Conn>();
  const sessions = new Set<Http2Session>();
  server.on('connection', (socket: Socket) => {
    const conn: Conn = { requests: 0, idleSince: performance.now(), http2: false };
    conns.set(socket, conn);
    bySocket.set(socket, conn);
    socket.once('close', () => conns.delete(socket));
  });
  server.on('secureConnection', (tls: TLSSocket) => {
    // The TCP socket under it; `_parent` is how node:tls links them (there is no public name for it).
    const conn = conns.get((tls as TLSSocket & { _parent?: Socket })._parent as Socket);
    if (!conn) return;
    bySocket.set(tls, conn);
    conn.http2 = tls.alpnProtocol === 'h2';
  });
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // HTTP/2 streams are counted by their session, which closes itself once they are done.
    if (req.httpVersionMajor === 2) return;
    const conn = bySocket.get(req.socket);
    if (!conn) return;
    conn.requests++;
    res.once('close', () => {
      if (--conn.requests === 0) conn.idleSince = performance.now();
    });
  });
  server.on('upgrade', (req: IncomingMessage) => {
    const conn = bySocket.get(req.socket);
    if (conn) conn.upgraded = true;
  });
  let retiring = false;
  // Before the handler, which may answer before a later listener would run.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (retiring && req.httpVersionMajor === 1) res.shouldKeepAlive = false;
  });
  const tracker: Connections = {
    closeIdle(idleForMs = 0) {
      const idleSince = performance.now() - idleForMs;
      for (const [socket, conn] of conns) {
        if (conn.requests > 0 || conn.http2 || conn.upgraded || isCleartextHttp2(socket)) continue;
        if (conn.idleSince > idleSince) continue;
        // A timer runs before the I/O that waited behind it: on a loaded machine a request can sit
        // unread on a socket that looks idle past the limit. Past it twice, with the I/O between
        // the two calls read, it is idle (a balancer sent nothing), unless a request came since.
        if (idleForMs === 0 || conn.overdue === conn.idleSince) socket.destroy();
        else conn.overdue = conn.idleSince;
      }
      // A session already closing ignores a second close().
      for (const session of sessions) session.close();
    },
    retire() {
      retiring = true;
    },
    closeAll() {
      for (const session of sessions) session.destroy();
      for (const socket of conns.keys()) socket.destroy();
    },
  };
  trackers.set(server, tracker);
  return tracker;
}
