import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/clock.js';
import { ended, json, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { serviceAvailable } from '../helpers/services.js';

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] };
const upstreamCalls = (st: ProxyStack) => st.mock.stats().requests;
/** Answers stored so far (the memory backend stores before the response ends; Redis just after). */
const stored = (st: ProxyStack) => st.s.server.runtime.responseCache.counts.stored;

async function setTtl(st: ProxyStack, projectId: string, ttl: number | null): Promise<void> {
  const res = await st.s.manage('PATCH', `/projects/${projectId}`, { cache_ttl_seconds: ttl });
  expect(res.status).toBe(200);
  expect(res.body.cache_ttl_seconds).toBe(ttl);
}

/** Sends the chat request through the proxy; returns status, Cache-Status, body text and the response. */
async function ask(st: ProxyStack, headers: Record<string, string> = {}, body: unknown = chat, token?: string) {
  const res = await st.proxy('/v1/chat/completions', { ...json(body, headers), ...(token ? { token } : {}) });
  const text = await res.text();
  return { status: res.status, cacheStatus: res.headers.get('cache-status'), text, res };
}

describe('response cache (memory backend)', () => {
  const clock = manualClock();
  let st: ProxyStack;

  beforeAll(async () => {
    st = await startProxyStack({ clock: clock.now });
  });
  afterAll(async () => {
    await st?.stop();
  });
  afterEach(async () => {
    await setTtl(st, st.projectId, null);
    await st.s.manage('DELETE', `/projects/${st.projectId}/cache`);
  });

  it('two projects sending byte-identical requests never share an answer', async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 300);
    const other = await st.addProject('other-team');
    await setTtl(st, other.projectId, 300);
    const body = { ...chat, messages: [{ role: 'user', content: 'isolation' }] };
    const before = upstreamCalls(st);
    const a1 = await ask(st, {}, body);
    expect(a1.cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    await until(() => stored(st) > s0);
    const a2 = await ask(st, {}, body);
    expect(a2.cacheStatus).toMatch(/^llm-proxy; hit; ttl=\d+$/);
    expect(a2.text).toBe(a1.text);
    expect(upstreamCalls(st)).toBe(before + 1);
    // The other project misses and reaches the upstream, with an answer of its own.
    const b1 = await ask(st, {}, body, other.token);
    expect(b1.cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    expect(upstreamCalls(st)).toBe(before + 2);
    expect(b1.text).not.toBe(a1.text);
  });

  it('a hit returns the identical JSON through the openai client, no upstream call, recorded as served from cache at no cost', async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 300);
    const first = await st.client.chat.completions.create({ ...chat, messages: [{ role: 'user', content: 'json' }] });
    await until(() => stored(st) > s0);
    const before = upstreamCalls(st);
    const { data, response } = await st.client.chat.completions
      .create({ ...chat, messages: [{ role: 'user', content: 'json' }] })
      .withResponse();
    expect(data).toEqual(first);
    expect(response.headers.get('cache-status')).toMatch(/^llm-proxy; hit; ttl=(300|299)$/);
    expect(upstreamCalls(st)).toBe(before);
    const rec = await st.recordOf(response as unknown as Response);
    expect(rec).toMatchObject({
      served_from: 'cache',
      status: 200,
      cost_nano_usd: 0,
      total_tokens: 0,
      usage_status: 'reported',
      model: 'gpt-4o-mini',
      upstream_ms: null,
      // Nothing went upstream: no key was used, and none retried.
      upstream_key_id: null,
      retries: 0,
    });
    // The access line says so too.
    await until(() => st.s.logs().includes(`"request_id":"${rec.id}"`));
    const line = st.s
      .logs()
      .split('\n')
      .find((l) => l.includes(`"request_id":"${rec.id}"`) && l.includes('proxy request'));
    expect(JSON.parse(line as string).served_from).toBe('cache');
  });

  it('a stream is replayed as SSE, identical event for event, through the openai client', async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 300);
    const req = { ...chat, messages: [{ role: 'user' as const, content: 'stream me' }], stream: true as const };
    const collect = async () => {
      const out: unknown[] = [];
      for await (const chunk of await st.client.chat.completions.create(req)) out.push(chunk);
      return out;
    };
    const first = await collect();
    expect(first.length).toBeGreaterThan(2);
    await until(() => stored(st) > s0);
    const before = upstreamCalls(st);
    const second = await collect();
    expect(second).toEqual(first);
    expect(upstreamCalls(st)).toBe(before);
    const rows = await st.usage();
    expect(rows.at(-1)).toMatchObject({ served_from: 'cache', is_stream: 1, cost_nano_usd: 0 });
  });

  it('a non-2xx answer is never stored', async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 300);
    const before = upstreamCalls(st);
    const e1 = await ask(st, { 'x-mock-status': '500' });
    expect(e1.status).toBe(500);
    expect(e1.cacheStatus).toBe('llm-proxy; fwd=uri-miss');
    const e2 = await ask(st, { 'x-mock-status': '500' });
    expect(e2.status).toBe(500);
    expect(e2.cacheStatus).toBe('llm-proxy; fwd=uri-miss');
    expect(upstreamCalls(st)).toBe(before + 2);
    expect(stored(st)).toBe(s0);
  });

  it('a stream the client cut is never stored', async () => {
    await setTtl(st, st.projectId, 300);
    const body = { ...chat, messages: [{ role: 'user', content: 'cut' }], stream: true };
    st.mock.reset();
    const ac = new AbortController();
    const res = await st.proxy('/v1/chat/completions', {
      ...json(body, { 'x-mock-chunks': '100', 'x-mock-chunk-delay-ms': '40' }),
      signal: ac.signal,
    });
    expect(res.headers.get('cache-status')).toBe('llm-proxy; fwd=uri-miss; stored');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    ac.abort();
    await reader.cancel().catch(() => {});
    await until(() => ended(st) === 1);
    expect(st.mock.stats().abortedStreams).toBe(1);
    await st.waitUsage(st.tokenId, 1);
    // The same request again: nothing was stored, so it goes upstream.
    const again = await ask(st, {}, body);
    expect(again.cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    expect(st.mock.stats().requests).toBe(2);
  });

  it('Cache-Control: no-cache skips the lookup and stores the fresh answer; no-store stores nothing', async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 300);
    const body = { ...chat, messages: [{ role: 'user', content: 'directives' }] };
    const fresh = await ask(st, { 'cache-control': 'no-store' }, body);
    expect(fresh.cacheStatus).toBe('llm-proxy; fwd=uri-miss');
    const before = upstreamCalls(st);
    const r1 = await ask(st, {}, body);
    expect(r1.cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    await until(() => stored(st) > s0);
    const r2 = await ask(st, { 'cache-control': 'no-cache' }, body);
    expect(r2.cacheStatus).toBe('llm-proxy; fwd=request; stored');
    expect(r2.text).not.toBe(r1.text);
    expect(upstreamCalls(st)).toBe(before + 2);
    await until(() => stored(st) > s0 + 1);
    // The no-cache answer replaced the first.
    const r3 = await ask(st, {}, body);
    expect(r3.cacheStatus).toMatch(/hit/);
    expect(r3.text).toBe(r2.text);
  });

  it('Cache-Control: max-age opts a request in for a project without a cache, and bounds the age it accepts', async () => {
    const s0 = stored(st);
    const body = { ...chat, messages: [{ role: 'user', content: 'max-age' }] };
    const plain = await ask(st, {}, body);
    expect(plain.cacheStatus).toBeNull();
    const m1 = await ask(st, { 'cache-control': 'max-age=120' }, body);
    expect(m1.cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    await until(() => stored(st) > s0);
    const m2 = await ask(st, { 'cache-control': 'max-age=120' }, body);
    expect(m2.cacheStatus).toBe('llm-proxy; hit; ttl=120');
    expect(m2.text).toBe(m1.text);
    clock.advance(30_000);
    // 30 s old: too old for a client that accepts 10 s.
    const m3 = await ask(st, { 'cache-control': 'max-age=10' }, body);
    expect(m3.cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    // A GET is not cached, and says so.
    const models = await st.proxy('/v1/models', { headers: { 'cache-control': 'max-age=60' } });
    expect(models.headers.get('cache-status')).toBe('llm-proxy; fwd=bypass');
  });

  it("an entry expires at the project's TTL (manual clock)", async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 60);
    const body = { ...chat, messages: [{ role: 'user', content: 'ttl' }] };
    await ask(st, {}, body);
    await until(() => stored(st) > s0);
    clock.advance(59_000);
    expect((await ask(st, {}, body)).cacheStatus).toBe('llm-proxy; hit; ttl=1');
    clock.advance(1_000);
    expect((await ask(st, {}, body)).cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
  });

  it('purge by project: admin only, audited, and the next request misses', async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 300);
    const body = { ...chat, messages: [{ role: 'user', content: 'purge' }] };
    await ask(st, {}, body);
    await until(() => stored(st) > s0);
    const purged = await st.s.manage('DELETE', `/projects/${st.projectId}/cache`);
    expect(purged).toMatchObject({ status: 200, body: { purged: 1 } });
    expect((await ask(st, {}, body)).cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    const audit = await st.s.manage('GET', '/audit?action=project.cache_purged');
    expect(audit.body.data[0]).toMatchObject({ action: 'project.cache_purged', details: { purged: 1 } });
    expect((await st.s.manage('DELETE', '/projects/nope/cache')).status).toBe(404);
  });

  it('hits still count against request caps: an RPM of 2 refuses the third request, cached or not', async () => {
    const s0 = stored(st);
    await setTtl(st, st.projectId, 300);
    const t = await st.issueToken({ requests_per_minute: 2 });
    const body = { ...chat, messages: [{ role: 'user', content: 'rpm' }] };
    expect((await ask(st, {}, body, t.token)).status).toBe(200);
    await until(() => stored(st) > s0);
    const hit = await ask(st, {}, body, t.token);
    expect(hit.cacheStatus).toMatch(/hit/);
    const third = await ask(st, {}, body, t.token);
    expect(third.status).toBe(429);
    expect(JSON.parse(third.text).error.code).toBe('rate_limit_exceeded');
  });

  it('a project without a cache gets no Cache-Status and nothing stored', async () => {
    const s0 = stored(st);
    const r = await ask(st);
    expect(r.status).toBe(200);
    expect(r.cacheStatus).toBeNull();
    expect(stored(st)).toBe(s0);
  });
});

describe('response cache (Redis backend)', () => {
  let st: ProxyStack | undefined;
  beforeAll(async () => {
    if (!(await serviceAvailable('redis'))) {
      console.log('skipped: Redis is not running');
      return;
    }
    st = await startProxyStack({ env: { REDIS_URL: 'redis://127.0.0.1:6379', CACHE_BACKEND: 'redis' } });
  });
  afterAll(async () => {
    if (st) await st.s.manage('DELETE', `/projects/${st.projectId}/cache`);
    await st?.stop();
  });

  it('stores, hits, expires by Redis TTL and purges across the shared backend', async (ctx) => {
    if (!st) return ctx.skip();
    const s = st;
    const body = { ...chat, messages: [{ role: 'user', content: `redis ${s.projectId}` }] };
    const r1 = await ask(s, { 'cache-control': 'max-age=300' }, body);
    expect(r1.cacheStatus).toBe('llm-proxy; fwd=uri-miss; stored');
    await until(() => stored(s) > 0);
    const r2 = await ask(s, { 'cache-control': 'max-age=300' }, body);
    expect(r2.cacheStatus).toMatch(/^llm-proxy; hit; ttl=\d+$/);
    expect(r2.text).toBe(r1.text);
    expect((await s.recordOf(r2.res)).served_from).toBe('cache');
    expect(await s.s.manage('DELETE', `/projects/${s.projectId}/cache`)).toMatchObject({
      status: 200,
      body: { purged: 1 },
    });
    expect((await ask(s, { 'cache-control': 'max-age=300' }, body)).cacheStatus).toBe(
      'llm-proxy; fwd=uri-miss; stored',
    );
    // A one-second entry expires (waited for, not timed).
    const short = { ...body, messages: [{ role: 'user', content: `short ${s.projectId}` }] };
    await ask(s, { 'cache-control': 'max-age=1' }, short);
    await until(
      async () => (await ask(s, { 'cache-control': 'max-age=1' }, short)).cacheStatus?.includes('fwd') === true,
    );
  });
});
