import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { sample, scrape } from '../shipping/helpers.js';

const MODEL = 'gpt-4o-realtime-preview';
const MiB = 1024 * 1024;
/** 64 frames of 1 MiB: far more than the proxy may hold and the kernel's socket buffers between. */
const FRAMES = 64;
/** What a session may hold for a slow peer: 1 MiB past which it pauses, one more frame, a read chunk. */
const BOUND = 3 * MiB;

describe('Realtime back-pressure', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack();
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('pauses the upstream while the client reads nothing, then delivers every byte in order', async () => {
    const url = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${st.token}` } });
    const received: string[] = [];
    let texts = 0;
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) received.push(createHash('sha256').update(data).digest('hex'));
      else texts++;
    });
    await once(ws, 'open');
    await until(() => texts === 1); // session.created
    const gateway = st.s.server.proxy.realtime;

    // The client stops reading its socket; the upstream sends 64 MiB at once.
    ws.pause();
    ws.send(JSON.stringify({ type: 'mock.flood', count: FRAMES, size: MiB }));
    const mock = st.mock.realtimeSessions().at(-1);
    await until(() => mock?.flooded.length === FRAMES);
    await until(() => gateway.stats.pauses.upstream >= 1);

    // The proxy holds a bounded amount; the rest waits in the upstream's socket, not in the proxy.
    expect(gateway.buffered()).toBeLessThanOrEqual(BOUND);
    expect(gateway.stats.bytes.toClient).toBeLessThan(FRAMES * MiB);
    expect(mock?.buffered()).toBeGreaterThan(0);
    const metrics = await scrape(st);
    expect(sample(metrics, 'llm_proxy_realtime_backpressure_pauses_total', { from: 'upstream' })).toBeGreaterThan(0);
    expect(sample(metrics, 'llm_proxy_realtime_buffered_bytes')).toBeLessThanOrEqual(BOUND);
    expect(received.length).toBeLessThan(FRAMES);

    ws.resume();
    await until(() => received.length === FRAMES);
    expect(received).toEqual(mock?.flooded);
    await until(() => gateway.buffered() === 0 && mock?.buffered() === 0);
    ws.close();
    await once(ws, 'close');
  });
});
