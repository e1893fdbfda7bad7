import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type Connections, trackConnections } from './connections.js';

const REQUEST = 'GET / HTTP/1.1\r\nHost: test\r\n\r\n';

/** A keep-alive client on one socket: everything it received, and whether the server closed it. */
function client(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  const state = { received: '', closed: false };
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (state.received += c));
  socket.on('error', () => {});
  socket.on('close', () => (state.closed = true));
  const responses = () => state.received.split('HTTP/1.1 200').length - 1;
  return { socket, state, responses };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(5);
}

describe('closing idle connections during a drain', () => {
  let server: Server;
  let tracker: Connections;
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  async function start(): Promise<number> {
    server = createServer((_req, res) => res.end('ok'));
    tracker = trackConnections(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as net.AddressInfo).port;
  }

  it('never takes an upgraded connection (a WebSocket) for an idle one; closeAll still ends it', async () => {
    const port = await start();
    // What the Realtime gateway does with an upgrade: the socket is its own from now on.
    server.on('upgrade', (_req, socket: net.Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.on('error', () => {});
    });
    const c = client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await until(() => c.state.received.includes('101 Switching Protocols'));
    tracker.closeIdle();
    // An idle keep-alive socket closed by the same call shows the call has run its course.
    const idle = client(port);
    idle.socket.write(REQUEST);
    await until(() => idle.responses() === 1);
    tracker.closeIdle();
    await until(() => idle.state.closed);
    expect(c.state.closed).toBe(false);
    tracker.closeAll();
    await until(() => c.state.closed);
  });

  it('reads a request that arrived on a socket past its idle limit before judging it', async () => {
    const c = client(await start());
    c.socket.write(REQUEST);
    await until(() => c.responses() === 1);
    await sleep(5); // idle past the 1 ms limit
    // The next request is in the server's socket buffer, not yet read, when the reaper runs (as
    // when a busy event loop runs a late timer before the I/O that waited behind it).
    c.socket.write(REQUEST);
    tracker.closeIdle(1);
    await until(() => c.responses() === 2 || c.state.closed);
    expect(c.state.closed).toBe(false);
    expect(c.responses()).toBe(2);
  });

  it('closes a socket found idle past the limit twice, and at once without a limit', async () => {
    const port = await start();
    const timed = client(port);
    timed.socket.write(REQUEST);
    await until(() => timed.responses() === 1);
    await sleep(5);
    tracker.closeIdle(1);
    await sleep(0);
    expect(timed.state.closed).toBe(false);
    tracker.closeIdle(1);
    await until(() => timed.state.closed);

    const untimed = client(port);
    untimed.socket.write(REQUEST);
    await until(() => untimed.responses() === 1);
    tracker.closeIdle();
    await until(() => untimed.state.closed);
  });
});
