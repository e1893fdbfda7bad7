import type { Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Socket } from 'node:net';

/** What every HTTP/2 client sends first on a connection (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Connections handed to the HTTP/2 server (connections.ts leaves their closing to the session). */
const http2Sockets = new WeakSet<Socket>();

export const isCleartextHttp2 = (socket: Socket): boolean => http2Sockets.has(socket);

/**
 * Cleartext HTTP/2 (h2c, prior knowledge) and HTTP/1.1 on one port. Node serves only one of them
 * per cleartext server (`allowHTTP1` works with TLS alone, where ALPN decides), so the first bytes
 * of each connection decide here: the HTTP/2 preface goes to `h2`, anything else to `server`'s
 * own HTTP/1.1 handling, with the bytes read so far. A connection that sends nothing within
 * `server.headersTimeout` is closed, as HTTP/1.1 would close it.
 */
export function serveCleartextHttp2(server: Server, h2: Http2Server): void {
  // node:http's own connection listener, called below for connections that are HTTP/1.1.
  const http1 = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    let seen: Buffer | undefined;
    // Until it is handed over, nobody else listens: a reset or a close before any byte ends it here.
    const onGone = () => socket.destroy();
    socket.on('error', onGone);
    socket.once('end', onGone);
    socket.setTimeout(server.headersTimeout, onGone);
    const onData = (chunk: Buffer) => {
      seen = seen ? Buffer.concat([seen, chunk]) : chunk;
      const n = Math.min(seen.length, PREFACE.length);
      const http2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (http2 && n < PREFACE.length) return;
      socket.off('data', onData);
      socket.off('error', onGone);
      socket.off('end', onGone);
      socket.off('timeout', onGone);
      socket.setTimeout(0);
      if (http2) {
        http2Sockets.add(socket);
        // The session reads what is buffered on the socket before the rest.
        socket.pause();
        socket.unshift(seen);
        h2.emit('connection', socket);
        return;
      }
      for (const listener of http1) listener.call(server, socket);
      // node:http reads the socket's handle directly from now on, past the stream's buffer: hand it
      // the bytes already read at once, before the handle delivers any more.
      socket.emit('data', seen);
    };
    socket.on('data', onData);
    // The listeners registered after this one (connection tracking) see the raw socket as usual.
  });
  // Connection tracking and drains see the HTTP/2 side's sessions on the server they know.
  h2.on('session', (session) => server.emit('session', session));
}
