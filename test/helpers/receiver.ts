import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (0: it cut the connection). */
  answered: number;
}

/**
 * How the receiver answers: `ok` (200), a status, `reset` (the connection is cut as soon as it
 * opens: a sink that is down at the TCP level), `hang` (reads the request and never answers).
 */
export type ReceiverMode = 'ok' | number | 'reset' | 'hang';

/** A real HTTP server standing in for a log pipeline: records every request, answers as told. */
export interface Receiver {
  url: string;
  port: number;
  mode: ReceiverMode;
  requests: Received[];
  /** Requests read and left unanswered (`hang`). */
  hanging(): number;
  /** Requests answered 2xx. */
  accepted(): Received[];
  /** Stops listening and cuts open connections (the port stays reserved for `reopen` only by convention). */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
}

export async function startReceiver(mode: ReceiverMode = 'ok', port = 0): Promise<Receiver> {
  const requests: Received[] = [];
  let hanging = 0;
  const receiver: Receiver = {
    url: '',
    port,
    mode,
    requests,
    hanging: () => hanging,
    accepted: () => requests.filter((r) => r.answered >= 200 && r.answered < 300),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    reopen: () => listen(receiver.port),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (receiver.mode === 'hang') {
        hanging++;
        return;
      }
      const answered = receiver.mode === 'ok' ? 200 : typeof receiver.mode === 'number' ? receiver.mode : 0;
      requests.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered,
      });
      if (answered === 0) {
        req.socket.destroy();
        return;
      }
      res.writeHead(answered, { 'content-type': 'application/json' }).end(answered === 200 ? '{}' : '{"error":"no"}');
    });
  });
  server.on('connection', (socket) => {
    if (receiver.mode === 'reset') socket.destroy();
  });
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        receiver.port = (server.address() as AddressInfo).port;
        receiver.url = `http://127.0.0.1:${receiver.port}`;
        resolve();
      });
    });
  await listen(port);
  return receiver;
}
