import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h2Connect, h2Post, h2Request, h2SignIn } from '../helpers/http2-client.js';
import { normaliseIds, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { signIn } from '../helpers/session.js';

const CHUNKS = 8;
const STREAM_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'stream please' }],
});

describe('HTTP2_CLEARTEXT: h2c with prior knowledge beside HTTP/1.1 on one port', () => {
  let st: ProxyStack;

  beforeAll(async () => {
    st = await startProxyStack({ env: { HTTP2_CLEARTEXT: 'true' } });
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('relays an SSE stream to an h2c client chunk by chunk, as the upstream sends it', async () => {
    expect(st.url).toMatch(/^http:\/\//);
    const session = await h2Connect(st.url);
    try {
      // The upstream pauses 300 ms between chunks: a relay that buffered would deliver the stream
      // in one piece at its end, after the upstream had finished it.
      const arrivals: { completedUpstream: number }[] = [];
      const reply = await h2Request(
        session,
        h2Post('/v1/chat/completions', st.token, {
          'content-length': Buffer.byteLength(STREAM_BODY),
          'x-mock-chunks': String(CHUNKS),
          'x-mock-chunk-delay-ms': '300',
        }),
        STREAM_BODY,
        () => arrivals.push({ completedUpstream: st.mock.stats().completedStreams }),
      );
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(reply.headers['x-accel-buffering']).toBe('no');
      // Several pieces reached the client while the upstream was still generating.
      expect(arrivals.filter((a) => a.completedUpstream === 0).length).toBeGreaterThanOrEqual(CHUNKS / 2);
      const direct = await st.direct('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-chunks': String(CHUNKS) },
        body: STREAM_BODY,
      });
      expect(normaliseIds(reply.text)).toBe(normaliseIds(await direct.text()));
      const row = (await st.waitUsage(st.tokenId, 1)).at(-1);
      expect(row).toMatchObject({ status: 200, is_stream: 1, bytes_out: reply.body.length, usage_status: 'reported' });
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 on the same port: the proxy, the management API and the health checks', async () => {
    const done = await st.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'over HTTP/1.1' }],
    });
    expect(done.choices[0]?.message.content).toBeTruthy();
    expect((await fetch(`${st.url}/health`)).status).toBe(200);
    expect((await st.s.manage('GET', '/projects')).status).toBe(200);
  });

  it('serves the management API over h2c, and sets no Secure cookie over plain HTTP', async () => {
    const session = await h2Connect(st.url);
    try {
      const projects = await h2Request(session, {
        ':path': '/manage/projects',
        authorization: `Bearer ${st.s.managementToken}`,
      });
      expect(projects.status).toBe(200);
      const { reply: over2, cookie } = await h2SignIn(session, st.s.managementToken);
      expect(over2.status).toBe(200);
      expect(cookie).toBeDefined();
      expect(cookie).not.toMatch(/Secure/);
    } finally {
      session.close();
    }
    const over1 = await signIn(st.url, { token: st.s.managementToken });
    expect(over1.reply.status).toBe(200);
    expect(over1.reply.headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  it('closes a connection that ends before saying which protocol it speaks, and keeps serving', async () => {
    const { port } = new URL(st.url);
    // Part of the HTTP/2 preface, then the end: the server must close its side, not wait.
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.end('PRI * HTTP/2.0\r\n');
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.resume();
    await until(() => closed);
    expect((await fetch(`${st.url}/health`)).status).toBe(200);
  });
});
