#!/usr/bin/env node
/**
 * The floor: the least a Node.js reverse proxy built like llm-proxy can cost. Node's HTTP server
 * in front of an undici Pool (the same two components the proxy uses), swapping in the upstream
 * key and streaming the response back with backpressure, and nothing else: no token check, no
 * limits, no usage capture, no logging. `npm run bench:floor` measures it beside the proxy and
 * nginx, so the proxy's own cost reads as the distance from this floor. WebSocket upgrades (the
 * Realtime API) are relayed the same bare way with `ws`, the library the proxy uses: frames passed
 * on both ways with back-pressure, nothing inspected (`npm run bench:realtime`'s floor).
 *
 *   node dist-bench/benchmarks/floor-proxy.js --upstream URL --key KEY [--port 0]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { type Dispatcher, Pool } from 'undici';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: { upstream: { type: 'string' }, key: { type: 'string' }, port: { type: 'string', default: '0' } },
});
if (!values.upstream || !values.key) throw new Error('usage: floor-proxy --upstream URL --key KEY [--port N]');
const pool = new Pool(values.upstream, { connections: 1100, pipelining: 1 });
const authorization = `Bearer ${values.key}`;
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'authorization']);

function forward(req: IncomingMessage, res: ServerResponse, body: Buffer | null): void {
  const headers: Record<string, string | string[]> = { authorization };
  for (const name in req.headers) {
    const v = req.headers[name];
    if (v !== undefined && !HOP.has(name)) headers[name] = v;
  }
  pool.dispatch(
    { method: req.method as Dispatcher.HttpMethod, path: req.url ?? '/', headers, body },
    {
      // undici tells the handler interfaces apart by this method, so it must exist.
      onRequestStart() {},
      onResponseStart(controller, status) {
        const list: string[] = [];
        const raw = controller.rawHeaders as Buffer[];
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const name = (raw[i] as Buffer).toString('latin1');
          if (!HOP.has(name.toLowerCase())) list.push(name, (raw[i + 1] as Buffer).toString('latin1'));
        }
        res.writeHead(status, list);
      },
      onResponseData(controller, chunk) {
        if (!res.write(chunk)) {
          controller.pause();
          res.once('drain', () => controller.resume());
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_controller, err) {
        if (res.headersSent) res.destroy(err);
        else res.writeHead(502).end();
      },
    },
  );
}

const server = createServer({ noDelay: true }, (req, res) => {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    forward(req, res, null);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => forward(req, res, Buffer.concat(chunks)));
});
// The WebSocket floor: accept, dial the upstream with its key, relay frames, close together.
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  const target = `${values.upstream?.replace(/^http/, 'ws')}${req.url ?? '/'}`;
  const upstream = new WebSocket(target, { headers: { authorization }, perMessageDeflate: false });
  upstream.once('error', () => socket.destroy());
  upstream.once('open', () =>
    wss.handleUpgrade(req, socket, head, (client) => {
      const pipe = (from: WebSocket, to: WebSocket) => {
        from.on('message', (data: RawData, isBinary: boolean) => {
          to.send(data, { binary: isBinary }, () => {
            if (from.isPaused && to.bufferedAmount < 1 << 19) from.resume();
          });
          if (to.bufferedAmount > 1 << 20) from.pause();
        });
        from.on('close', () => to.close());
        from.on('error', () => to.terminate());
      };
      pipe(client, upstream);
      pipe(upstream, client);
    }),
  );
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') console.log(`floor proxy listening on http://127.0.0.1:${addr.port}`);
});
process.on('SIGTERM', () => process.exit(0));
