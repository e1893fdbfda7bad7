import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/clock.js';
import { json, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { answer, newProject, newToken, proxyClient, samples, serversOnPostgres } from '../helpers/scaleout.js';

/** OpenAI's error shape, as the proxy answers. */
interface ErrorBody {
  error: { code: string; type: string; message: string };
}

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hello' }] };
let keys = 0;
/** A fresh key per test: keys are per project and live for the window. */
const newKey = () => `idem-${process.pid}-${++keys}`;
const withKey = (key: string, more: Record<string, string> = {}) => ({ headers: { 'Idempotency-Key': key, ...more } });

/** A chat completion through `client` with `key`, answered as the raw response (body text, headers, status). */
async function chatRaw(client: OpenAI, key: string, body = CHAT, more: Record<string, string> = {}) {
  const res = await client.chat.completions.create(body, withKey(key, more)).asResponse();
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The OpenAI client's error for a call expected to fail: status, code, retry-after. */
async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (err) {
    if (err instanceof OpenAI.APIError)
      return { status: err.status, code: err.code, retryAfter: err.headers?.get('retry-after') ?? undefined };
    throw err;
  }
  throw new Error('expected the request to be refused');
}

describe('Idempotency-Key', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { IDEMPOTENCY_WAIT_MS: '120000' } });
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('a repeat after completion gets the same answer, marked as a replay; the upstream ran once and it is charged once', async () => {
    // A cap of one request: a replay charged against it would leave nothing for the next request.
    const capped = await st.issueToken({ max_requests: 1 });
    const client = st.clientFor(capped.token);
    const key = newKey();
    st.mock.reset();
    const first = await chatRaw(client, key);
    const again = await chatRaw(client, key);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(again.headers.get('x-llm-proxy-request-id')).not.toBe(first.headers.get('x-llm-proxy-request-id'));
    expect(st.mock.stats().requests).toBe(1);

    // The cap held one request: the replay took none of it.
    expect(await refusal(client.chat.completions.create(CHAT, withKey(newKey())))).toMatchObject({
      status: 429,
      code: 'request_limit_reached',
    });
    const rows = await st.waitUsage(capped.id, 2);
    const replay = rows.find((r) => r.served_from === 'idempotent_replay');
    const charged = rows.filter((r) => r.served_from === null);
    expect(charged).toHaveLength(1);
    expect(charged[0]?.total_tokens).toBeGreaterThan(0);
    expect(replay).toMatchObject({ status: 200, total_tokens: 0, cost_nano_usd: 0, upstream_key_id: null });
    const token = await st.s.manage('GET', `/tokens/${capped.id}`);
    expect(token.body.request_count).toBe(1);
    expect(await samples(st.s, 'llm_proxy_idempotency_total', { result: 'replayed' })).toEqual({ '': 1 });
  });

  it('a repeat while the first is in flight waits for it and gets the same answer; the upstream runs once', async () => {
    const key = newKey();
    st.mock.reset();
    const first = chatRaw(st.client, key, CHAT, { 'x-mock-hold': '1' });
    await until(() => st.mock.stats().held === 1);
    const second = chatRaw(st.client, key);
    await until(() => st.s.server.runtime.idempotency.waiting === 1);
    expect(st.mock.release()).toBe(1);
    const [a, b] = await Promise.all([first, second]);
    expect(b.text).toBe(a.text);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(st.mock.stats().requests).toBe(1);
  });

  it('the same key with another body gets 422 idempotency_key_mismatch, and nothing is sent', async () => {
    const key = newKey();
    await chatRaw(st.client, key);
    st.mock.reset();
    const other = { ...CHAT, messages: [{ role: 'user' as const, content: 'something else' }] };
    expect(await refusal(st.client.chat.completions.create(other, withKey(key)))).toMatchObject({
      status: 422,
      code: 'idempotency_key_mismatch',
    });
    // Another path with the same key and body is another request too.
    const res = await st.proxy('/v1/completions', json(CHAT, { 'idempotency-key': key }));
    expect(res.status).toBe(422);
    expect(st.mock.stats().requests).toBe(0);
  });

  it('a stream is replayed as the same events when it was kept', async () => {
    const key = newKey();
    st.mock.reset();
    const events = async () => {
      const stream = await st.client.chat.completions.create({ ...CHAT, stream: true }, withKey(key));
      const parts: string[] = [];
      for await (const chunk of stream) parts.push(chunk.choices[0]?.delta?.content ?? '');
      return parts;
    };
    const first = await events();
    const again = await events();
    expect(first.join('')).not.toBe('');
    expect(again).toEqual(first);
    expect(st.mock.stats().requests).toBe(1);
    const raw = await st.proxy('/v1/chat/completions', json({ ...CHAT, stream: true }, { 'idempotency-key': key }));
    expect(raw.headers.get('content-type')).toContain('text/event-stream');
    expect(raw.headers.get('idempotent-replayed')).toBe('true');
    expect(await raw.text()).toContain('data: [DONE]');
  });

  it('two projects using the same key value are independent', async () => {
    const key = newKey();
    const other = await st.addProject(`other-${key}`);
    st.mock.reset();
    const a = await chatRaw(st.client, key);
    const b = await chatRaw(st.clientFor(other.token), key);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(a.headers.get('idempotent-replayed')).toBeNull();
    expect(st.mock.stats().requests).toBe(2);
  });

  it('a 5xx or a 429 first answer is not kept: the retry runs again and its answer is the one kept', async () => {
    for (const status of ['500', '429']) {
      const key = newKey();
      st.mock.reset();
      expect(
        await refusal(st.client.chat.completions.create(CHAT, withKey(key, { 'x-mock-status': status }))),
      ).toMatchObject({
        status: Number(status),
      });
      // The key makes a 5xx safe to retry, so the proxy tried it on its one key up to
      // UPSTREAM_RETRY_MAX_ATTEMPTS (3) times; a 429 on a project's only key is not retried.
      const firstCalls = st.mock.stats().requests;
      expect(firstCalls).toBe(status === '500' ? 3 : 1);
      const retry = await chatRaw(st.client, key);
      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      const third = await chatRaw(st.client, key);
      expect(third.text).toBe(retry.text);
      expect(st.mock.stats().requests).toBe(firstCalls + 1);
    }
  });

  it('a 4xx answer of the upstream is kept: the repeat gets it without calling the upstream', async () => {
    const key = newKey();
    st.mock.reset();
    const first = await refusal(st.client.chat.completions.create(CHAT, withKey(key, { 'x-mock-status': '400' })));
    const again = await st.proxy('/v1/chat/completions', json(CHAT, { 'idempotency-key': key }));
    expect(first.status).toBe(400);
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(st.mock.stats().requests).toBe(1);
  });

  it('a bad key or an upload with a key gets 400 in OpenAI error shape, before anything is sent', async () => {
    st.mock.reset();
    for (const key of ['x'.repeat(256), 'tab\there', 'naïve']) {
      const res = await st.proxy('/v1/chat/completions', json(CHAT, { 'idempotency-key': key }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        code: 'idempotency_key_invalid',
        type: 'invalid_request_error',
      });
    }
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', new Blob(['hello']), 'a.txt');
    const upload = await st.proxy('/v1/files', {
      method: 'POST',
      body: form,
      headers: { 'idempotency-key': newKey() },
    });
    expect(upload.status).toBe(400);
    expect(((await upload.json()) as ErrorBody).error.code).toBe('idempotency_key_unsupported');
    expect(st.mock.stats().requests).toBe(0);
    // The draft's quoted form names the same key as the bare one.
    const key = newKey();
    await chatRaw(st.client, `"${key}"`);
    expect((await chatRaw(st.client, key)).headers.get('idempotent-replayed')).toBe('true');
  });

  it('GET requests pass the header through untouched', async () => {
    st.mock.reset();
    const key = newKey();
    for (let i = 0; i < 2; i++) {
      const res = await st.proxy('/v1/models', { headers: { 'idempotency-key': key } });
      expect(res.status).toBe(200);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(st.mock.stats().requests).toBe(2);
  });
});

describe('Idempotency-Key bounds', () => {
  let st: ProxyStack;
  const clock = manualClock();
  beforeAll(async () => {
    st = await startProxyStack({
      clock: clock.now,
      env: { IDEMPOTENCY_WAIT_MS: '0', IDEMPOTENCY_MAX_RESPONSE_BYTES: '1500', IDEMPOTENCY_TTL_SECONDS: '3600' },
    });
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('past the wait bound a repeat gets 409 idempotency_key_in_use with Retry-After', async () => {
    const key = newKey();
    st.mock.reset();
    const first = chatRaw(st.client, key, CHAT, { 'x-mock-hold': '1' });
    await until(() => st.mock.stats().held === 1);
    expect(await refusal(st.client.chat.completions.create(CHAT, withKey(key)))).toEqual({
      status: 409,
      code: 'idempotency_key_in_use',
      retryAfter: '1',
    });
    st.mock.release();
    expect((await first).status).toBe(200);
    expect(st.mock.stats().requests).toBe(1);
  });

  it('a stream larger than IDEMPOTENCY_MAX_RESPONSE_BYTES is not kept: its repeat gets 409 saying so', async () => {
    const key = newKey();
    st.mock.reset();
    const stream = await st.client.chat.completions.create({ ...CHAT, stream: true }, withKey(key));
    for await (const _ of stream);
    expect(await refusal(st.client.chat.completions.create({ ...CHAT, stream: true }, withKey(key)))).toMatchObject({
      status: 409,
      code: 'idempotency_response_not_kept',
    });
    expect(st.mock.stats().requests).toBe(1);
  });

  it('a key expires with its window (IDEMPOTENCY_TTL_SECONDS): then the request runs again', async () => {
    const key = newKey();
    st.mock.reset();
    const body = { ...CHAT, max_tokens: 5 };
    await chatRaw(st.client, key, body);
    clock.advance(3_600_000 - 1);
    expect((await chatRaw(st.client, key, body)).headers.get('idempotent-replayed')).toBe('true');
    clock.advance(1);
    expect((await chatRaw(st.client, key, body)).headers.get('idempotent-replayed')).toBeNull();
    expect(st.mock.stats().requests).toBe(2);
    // The maintenance pass deletes what expired (the row just claimed stays).
    clock.advance(3_600_000);
    expect((await st.s.server.runtime.maintenance.runOnce()).idempotency_keys_deleted).toBeGreaterThanOrEqual(1);
  });
});

describe.each([
  ['PostgreSQL', false],
  ['Redis', true],
])('Idempotency-Key across two instances on %s', (_name, withRedis) => {
  const pg = serversOnPostgres({ withRedis, env: { IDEMPOTENCY_WAIT_MS: '120000' } });

  it('the key holds across instances: a repeat on the other waits for the first and gets its answer', async () => {
    if (!pg.up) return;
    const a = await pg.start();
    const b = await pg.start();
    const t = await newToken(a, await newProject(a));
    const key = newKey();
    pg.mock.reset();
    const first = proxyClient(a, t.token)
      .chat.completions.create(CHAT, withKey(key, { 'x-mock-hold': '1' }))
      .asResponse();
    await until(() => pg.mock.stats().held === 1);
    const second = proxyClient(b, t.token).chat.completions.create(CHAT, withKey(key)).asResponse();
    await until(() => b.server.runtime.idempotency.waiting === 1);
    pg.mock.release();
    const [ra, rb] = await Promise.all([first, second]);
    expect(await rb.text()).toBe(await ra.text());
    expect(rb.headers.get('idempotent-replayed')).toBe('true');
    expect(pg.mock.stats().requests).toBe(1);
    // And after completion, from the first instance too.
    const third = await answer(() => proxyClient(a, t.token).chat.completions.create(CHAT, withKey(key)));
    expect(third.status).toBe(200);
    expect(pg.mock.stats().requests).toBe(1);
  });
});
