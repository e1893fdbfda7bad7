import { once } from 'node:events';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ended, json, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { rawPost } from '../helpers/slow-client.js';

/*
 * The requests that get aborted go through an agent of their own. After an abort, undici (the
 * client side, in this test process) opens a spare connection to the proxy that never carries a
 * request; Node's server.close() does not count such a connection as idle, so the server's
 * shutdown would sit out SHUTDOWN_TIMEOUT_MS. Destroying the agent before stopping closes it.
 */
const agent = new Agent();
const abortableFetch = ((url: string, init: any) => undiciFetch(url, { ...init, dispatcher: agent })) as any;

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => {
  await agent.destroy();
  await st.stop();
});
beforeEach(() => st.mock.reset());

/** Like st.proxy, over the test's own agent. */
function proxyFetch(path: string, init: { headers?: Record<string, string>; token?: string } & RequestInit) {
  const { token = st.token, headers, ...rest } = init;
  return abortableFetch(`${st.url}${path}`, {
    ...rest,
    headers: { authorization: `Bearer ${token}`, ...headers },
  }) as Promise<Response>;
}

const slowStream = { 'x-mock-chunks': '100', 'x-mock-chunk-delay-ms': '40' };
const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello there' }],
  stream: true,
  ...extra,
});

/** Starts a streamed request, reads `chunks` reads' worth, then aborts; returns the response and bytes read. */
async function readThenAbort(path: string, body: unknown, chunks: number): Promise<{ res: Response; read: string }> {
  const ac = new AbortController();
  const res = await proxyFetch(path, { ...json(body, slowStream), signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let read = '';
  for (let i = 0; i < chunks; i++) {
    const { value, done } = await reader.read();
    if (done) break;
    read += Buffer.from(value).toString();
  }
  ac.abort();
  await reader.cancel().catch(() => {});
  return { res, read };
}

describe('proxy: client aborts', () => {
  it.each([
    ['chat stream, include_usage injected and filtered', '/v1/chat/completions', chat()],
    ['chat stream, client asked for usage', '/v1/chat/completions', chat({ stream_options: { include_usage: true } })],
    ['responses stream', '/v1/responses', { model: 'gpt-4.1-mini', input: 'Say hi', stream: true }],
  ])('%s: the upstream stream is cancelled promptly and the record says client_aborted', async (_n, path, body) => {
    const { res, read } = await readThenAbort(path, body, 3);
    expect(read.length).toBeGreaterThan(0);
    expect(read).not.toContain('[DONE]');
    // The proxy closes its upstream connection: the mock's stream ends aborted, not completed (after
    // 100 × 40 ms). Waiting for the end either way needs no deadline that a busy machine could miss.
    await until(() => ended(st) === 1);
    expect(st.mock.stats()).toMatchObject({ abortedStreams: 1, completedStreams: 0, activeStreams: 0 });
    const rec = await st.recordOf(res);
    expect(rec).toMatchObject({ path, status: 200, is_stream: 1, error: 'client_aborted' });
    expect(rec.bytes_out).toBeGreaterThanOrEqual(Buffer.byteLength(read));
    // The access line is written for it too, with the client's address (read on arrival: its
    // socket is gone by the end).
    await until(() => st.s.logs().includes(`"request_id":"${rec.id}"`));
    const line = JSON.parse(
      st.s
        .logs()
        .split('\n')
        .find((l) => l.includes(`"request_id":"${rec.id}"`)) as string,
    );
    expect(line).toMatchObject({ msg: 'proxy request', error: 'client_aborted' });
    expect(line.client_ip).toMatch(/127\.0\.0\.1|::1/);
    // Usage never arrived: the record bills what was produced before the abort (a few of the 100
    // text chunks), never the whole stream.
    // (or, if no text had been generated yet, nothing at all).
    if (rec.usage_status === 'estimated') {
      expect(rec.completion_tokens).toBeGreaterThan(0);
      expect(rec.completion_tokens).toBeLessThan(20);
    } else {
      expect(rec).toMatchObject({ usage_status: 'missing', total_tokens: null, cost_nano_usd: null });
      expect(read).not.toMatch(/output_text\.delta|"content":"[^"]/);
    }
  });

  it('an abort through the official client (breaking out of the stream) does the same', async () => {
    const client = new OpenAI({ baseURL: `${st.url}/v1`, apiKey: st.token, maxRetries: 0, fetch: abortableFetch });
    const stream = await client.chat.completions.create(chat() as any, { headers: slowStream });
    let seen = 0;
    for await (const _chunk of stream as any) {
      if (++seen === 3) break; // the SDK aborts the request when the loop is left
    }
    await until(() => ended(st) === 1);
    expect(st.mock.stats()).toMatchObject({ abortedStreams: 1, completedStreams: 0 });
    const rows = await st.waitUsage(st.tokenId, 1);
    expect(rows.some((r) => r.error === 'client_aborted' && r.is_stream === 1)).toBe(true);
  });

  it('an abort while the upstream has not answered yet ends as 499 client_aborted, without waiting', async () => {
    const other = await st.issueToken();
    const ac = new AbortController();
    // The upstream would answer only after ten minutes, far beyond the test's time limit: a record
    // that exists at all was written without waiting for it.
    const pending = proxyFetch('/v1/chat/completions', {
      ...json(chat(), { 'x-mock-latency-ms': '600000' }),
      token: other.token,
      signal: ac.signal,
    }).catch((e: Error) => e);
    await until(() => st.mock.stats().requests === 1);
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    const rows = await st.waitUsage(other.id, 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 499, error: 'client_aborted', bytes_out: 0 });
  });

  /** Starts a 1 MiB upload, sends 64 KiB of it, and returns a function that abandons it. */
  function startUpload(token: string, path: string, type: string): () => void {
    const req = rawPost(st, path, { token, type, length: 1 << 20 });
    req.on('error', () => {});
    req.write(Buffer.alloc(64 * 1024, 0x20));
    return () => req.destroy();
  }

  it('a client that goes away mid-upload of a streamed body ends as 499 client_aborted', async () => {
    const other = await st.issueToken();
    const before = st.mock.stats().requests;
    const abandon = startUpload(other.token, '/v1/files', 'multipart/form-data; boundary=x');
    // The body is passed through as it arrives, so the upstream sees the request start.
    await until(() => st.mock.stats().requests === before + 1);
    abandon();
    const rows = await st.waitUsage(other.id, 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ path: '/v1/files', status: 499, error: 'client_aborted' });
  });

  it('a client that goes away while a completion body is being read is never forwarded or counted', async () => {
    const other = await st.issueToken();
    const before = st.mock.stats().requests;
    // Abandoned once the proxy has the request (not after a fixed sleep, which a busy machine can outlast).
    const arrived = once(st.s.server.app.server, 'request');
    const abandon = startUpload(other.token, '/v1/chat/completions', 'application/json');
    await arrived;
    abandon();
    await until(() => st.s.logs().includes('client went away before the request was forwarded'));
    expect(st.mock.stats().requests).toBe(before);
    expect(await st.usage(other.id)).toHaveLength(0);
  });

  it('the proxy keeps serving after aborted streams', async () => {
    const res = await st.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'again' }],
    });
    expect(res.choices[0]?.finish_reason).toBe('stop');
  });
});
