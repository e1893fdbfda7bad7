import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyHooks } from '../../src/proxy/hooks.js';
import {
  closedPort,
  json,
  type ProxyStack,
  startProxyStack,
  UPSTREAM_KEY as UPSTREAM,
  until,
} from '../helpers/proxy.js';

/** Where metrics and tracing will attach: every point fires once, in order, with what it promises. */
describe('proxy hooks', () => {
  let st: ProxyStack;
  const seen: string[] = [];
  beforeAll(async () => {
    st = await startProxyStack();
    const hooks: ProxyHooks = {
      start: (pr) => seen.push(`start ${pr.method} ${pr.path}`),
      admitted: (pr) => seen.push(`admitted ${pr.identity?.tokenId === st.tokenId}`),
      refused: (_pr, err) => seen.push(`refused ${err.status} ${err.code}`),
      left: (pr) => seen.push(`left ${pr.path}`),
      upstreamRequest: (_pr, headers) =>
        seen.push(`upstream request ${headers.authorization === `Bearer ${UPSTREAM}`}`),
      upstreamHeaders: (_pr, status) => seen.push(`headers ${status}`),
      firstByte: () => seen.push('first byte'),
      end: (_pr, rec) => seen.push(`end ${rec.status} ${rec.totalTokens !== null} ${rec.error}`),
    };
    st.s.server.proxy.attach(hooks);
  });
  afterAll(() => st.stop());

  it('an admitted request: start, admitted, upstream request, upstream headers, first byte, end with its record', async () => {
    seen.length = 0;
    const res = await st.proxy('/v1/chat/completions', json({ model: 'gpt-4o-mini', messages: [] }));
    expect(res.status).toBe(200);
    await res.text();
    await st.recordOf(res);
    expect(seen).toEqual([
      'start POST /v1/chat/completions',
      'admitted true',
      'upstream request true',
      'headers 200',
      'first byte',
      'end 200 true null',
    ]);
  });

  it('a refusal: start, then refused with its reason, and nothing else', async () => {
    seen.length = 0;
    const res = await st.proxy('/v1/models', { token: 'sk-llmp-not-a-token' });
    expect(res.status).toBe(401);
    await res.text();
    expect(seen).toEqual(['start GET /v1/models', 'refused 401 invalid_api_key']);
  });

  it('an upstream that cannot be reached: admitted, an upstream request per attempt (retried), then end with the error, no headers hook', async () => {
    const dead = await st.addProject('dead upstream', `http://127.0.0.1:${await closedPort()}`);
    seen.length = 0;
    const res = await st.proxy('/v1/models', { token: dead.token });
    expect(res.status).toBe(502);
    await res.text();
    expect(seen).toEqual([
      'start GET /v1/models',
      'admitted false',
      // UPSTREAM_RETRY_MAX_ATTEMPTS (3): a connection never made is retried on the one key.
      'upstream request true',
      'upstream request true',
      'upstream request true',
      'end 502 false upstream_unavailable',
    ]);
  });

  it('a client that leaves while its body is read: start, then left, and nothing else', async () => {
    seen.length = 0;
    // A streamed chat body is read before forwarding (include_usage); this one never arrives whole.
    const socket = net.connect(Number(new URL(st.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${st.token}\r\n` +
        'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":"gpt-4o-mini","stream":true',
    );
    await until(() => seen.length > 0);
    socket.destroy();
    await until(() => seen.length > 1);
    expect(seen).toEqual(['start POST /v1/chat/completions', 'left /v1/chat/completions']);
  });
});
