import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { samples } from '../helpers/scaleout.js';
import { holdRequests, rawPost } from '../helpers/slow-client.js';

/** PROXY_MAX_IN_FLIGHT of the stack: this many requests are held, the next ones are shed. */
const LIMIT = 8;
/** Requests sent past the limit while the others are held. */
const OVER = 5;

const ready = async (st: ProxyStack) => {
  const res = await fetch(`${st.url}/ready`);
  return { status: res.status, body: (await res.json()) as { checks?: Record<string, string> } };
};

/** The `proxy refused` log lines with this code. */
const refusals = (st: ProxyStack, code: string) =>
  st.s
    .logs()
    .split('\n')
    .filter((l) => l.includes('"proxy refused"') && l.includes(`"code":"${code}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('load shedding: requests past PROXY_MAX_IN_FLIGHT', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { PROXY_MAX_IN_FLIGHT: String(LIMIT) } });
  });
  afterAll(async () => {
    st.mock.release();
    await st.stop();
  });

  it('are answered 503 at once while the admitted ones are held, /ready turns 503 and back, and no usage is lost', async () => {
    expect((await ready(st)).status).toBe(200);
    const admitted = await holdRequests(st, st.token, LIMIT);

    // The burst: every one answered while the LIMIT admitted requests are still held upstream.
    const shed = await Promise.all(
      Array.from({ length: OVER }, () => st.proxy('/v1/models', { headers: { 'x-mock-hold': '1' } })),
    );
    expect(st.mock.stats().held).toBe(LIMIT);
    for (const res of shed) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('x-should-retry')).toBe('true');
      expect(res.headers.get('x-llm-proxy-request-id')).toBeTruthy();
      expect(await res.json()).toEqual({
        error: {
          message: 'This proxy instance is serving as many requests as it allows; retry shortly.',
          type: 'server_error',
          code: 'server_overloaded',
          param: null,
        },
      });
    }
    // Shed before the token is looked up: an unknown token gets the same 503, not a 401.
    const unknown = await st.proxy('/v1/models', { token: 'not-a-token' });
    expect(unknown.status).toBe(503);
    await unknown.body?.cancel();

    // Shed without its body being asked for: a client waiting on `Expect: 100-continue` gets the
    // 503 and never a `100 Continue`, so it never uploads.
    const upload = await new Promise<{ status: number; continued: boolean }>((resolve) => {
      let continued = false;
      const req = rawPost(st, '/v1/chat/completions', { type: 'application/json', length: 1_000_000 }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, continued });
      });
      req.setHeader('expect', '100-continue');
      req.on('continue', () => {
        continued = true;
      });
      req.on('error', () => {});
      req.flushHeaders();
    });
    expect(upload).toEqual({ status: 503, continued: false });

    const notReady = await ready(st);
    expect(notReady).toEqual({ status: 503, body: expect.objectContaining({ status: 'not_ready' }) });
    expect(notReady.body.checks?.load).toBe('shedding');
    expect(await samples(st.s, 'llm_proxy_load_shedding')).toEqual({ '': 1 });
    expect(await samples(st.s, 'llm_proxy_refusals_total', { reason: 'server_overloaded' })).toEqual({
      '': OVER + 2,
    });
    const lines = refusals(st, 'server_overloaded');
    expect(lines).toHaveLength(OVER + 2);
    for (const l of lines) {
      expect(l).toMatchObject({ status: 503 });
      expect(l).not.toHaveProperty('token_id');
    }

    st.mock.release();
    expect((await Promise.all(admitted)).map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
    // Ready again once the load has dropped (and nothing was shed for a moment).
    await until(async () => (await ready(st)).status === 200);
    expect(await samples(st.s, 'llm_proxy_load_shedding')).toEqual({ '': 0 });

    // Every admitted request has its usage record; the shed ones have none.
    const rows = await st.waitUsage(st.tokenId, LIMIT);
    expect(rows).toHaveLength(LIMIT);
    expect(rows.every((r) => r.status === 200)).toBe(true);
    // And the instance serves normally again.
    expect((await st.proxy('/v1/models')).status).toBe(200);
  });
});
