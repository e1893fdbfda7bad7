import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Tracks client connections and how many requests each has in flight, so shutdown can close the
 * ones doing nothing: idle keep-alive sockets and sockets that connected but never sent a
 * request (Node's own closeIdleConnections misses the latter).
 */
export function trackConnections(server: Server): { closeIdle(): void } {
  const active = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    active.set(socket, 0);
    socket.once('close', () => active.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const n = (active.get(socket) ?? 1) - 1;
      if (active.has(socket)) active.set(socket, n);
    });
  });
  return {
    closeIdle() {
      for (const [socket, n] of active) if (n === 0) socket.destroy();
    },
  };
}
