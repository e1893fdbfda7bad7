import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, normaliseIds, type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { mockChatPrompt, nanoUsd } from '../limits/helpers.js';

/*
 * Byte comparisons: the mock mints a random id (crypto.randomBytes) and a wall-clock `created` for
 * every reply, so two calls with the same request can never be byte-equal as sent. Everything else
 * in a mock stream is deterministic (the text, token counts and framing depend only on the request
 * and the x-mock-* headers), so each comparison replaces exactly those id/created fields with
 * placeholders (normaliseIds) and then compares the whole bodies as strings, byte for byte.
 */

let st: ProxyStack;
let plain: ProxyStack; // STREAM_INCLUDE_USAGE=false
beforeAll(async () => {
  [st, plain] = await Promise.all([startProxyStack(), startProxyStack({ env: { STREAM_INCLUDE_USAGE: 'false' } })]);
});
afterAll(async () => {
  await Promise.all([st?.stop(), plain?.stop()]);
});

const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello there' }],
  stream: true,
  ...extra,
});

async function viaAndDirect(
  stack: ProxyStack,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ via: string; direct: string; viaRes: Response }> {
  const viaRes = await stack.proxy(path, json(body, headers));
  const via = await viaRes.text();
  const direct = await (await stack.direct(path, json(body, headers))).text();
  return { via, direct, viaRes };
}

const dataLines = (text: string) => text.split('\n').filter((l) => l.startsWith('data: '));

describe('proxy: streaming', () => {
  it('500 chunks: the client receives exactly the bytes the upstream sends a client that did not ask for usage', async () => {
    const { via, direct, viaRes } = await viaAndDirect(st, '/v1/chat/completions', chat(), { 'x-mock-chunks': '500' });
    expect(viaRes.status).toBe(200);
    expect(viaRes.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(dataLines(via)).toHaveLength(503); // role + 500 content + finish + [DONE]
    expect(via.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(normaliseIds(via)).toBe(normaliseIds(direct));
    // No trace of the usage the proxy asked for on the client's behalf…
    expect(via).not.toContain('"usage"');
    // …yet the upstream was asked for it, and the record has the counts.
    const upstream = st.mock.requests().at(-2);
    expect(upstream?.path).toBe('/v1/chat/completions');
    expect(upstream?.bodyBytes).toBe(JSON.stringify(chat({ stream_options: { include_usage: true } })).length);
    expect(await st.recordOf(viaRes)).toMatchObject({
      status: 200,
      is_stream: 1,
      model: 'gpt-4o-mini',
      prompt_tokens: 10,
      completion_tokens: 500,
      total_tokens: 510,
      cached_tokens: 0,
      reasoning_tokens: 0,
      finish_reason: 'stop',
      bytes_out: Buffer.byteLength(via),
      bytes_in: JSON.stringify(chat()).length,
      error: null,
    });
  });

  it('stays identical when the upstream writes every event separately (events split across reads)', async () => {
    const headers = { 'x-mock-chunks': '60', 'x-mock-chunk-delay-ms': '1' };
    const { via, direct, viaRes } = await viaAndDirect(st, '/v1/chat/completions', chat(), headers);
    expect(dataLines(via)).toHaveLength(63);
    expect(normaliseIds(via)).toBe(normaliseIds(direct));
    expect(via).not.toContain('"usage"');
    expect(await st.recordOf(viaRes)).toMatchObject({ completion_tokens: 60, prompt_tokens: 10 });
  });

  it('legacy completions streams are filtered back the same way', async () => {
    const body = { model: 'gpt-3.5-turbo-instruct', prompt: 'Say this', stream: true };
    const { via, direct, viaRes } = await viaAndDirect(st, '/v1/completions', body, { 'x-mock-chunks': '20' });
    expect(normaliseIds(via)).toBe(normaliseIds(direct));
    expect(via).not.toContain('"usage"');
    expect(await st.recordOf(viaRes)).toMatchObject({
      path: '/v1/completions',
      is_stream: 1,
      prompt_tokens: 2,
      completion_tokens: 20,
      total_tokens: 22,
    });
  });

  it('a client that asks for include_usage gets the usage chunk (and the usage:null members) itself', async () => {
    const body = chat({ stream_options: { include_usage: true } });
    const { via, direct, viaRes } = await viaAndDirect(st, '/v1/chat/completions', body, { 'x-mock-chunks': '5' });
    expect(normaliseIds(via)).toBe(normaliseIds(direct));
    const lines = dataLines(via);
    expect(lines).toHaveLength(9); // role + 5 + finish + usage + [DONE]
    expect(lines.slice(0, 7).every((l) => l.endsWith(',"usage":null}'))).toBe(true);
    const usageChunk = JSON.parse(lines[7]?.slice(6) ?? '');
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    // Forwarded as sent: the request already chose.
    expect(st.mock.requests().at(-2)?.bodyBytes).toBe(JSON.stringify(body).length);
    expect(await st.recordOf(viaRes)).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  });

  it('a client that explicitly declines usage (include_usage:false) is not overridden', async () => {
    const body = chat({ stream_options: { include_usage: false } });
    const { via, direct, viaRes } = await viaAndDirect(st, '/v1/chat/completions', body, { 'x-mock-chunks': '3' });
    expect(normaliseIds(via)).toBe(normaliseIds(direct));
    expect(st.mock.requests().at(-2)?.bodyBytes).toBe(JSON.stringify(body).length);
    // No usage was reported: the record estimates from what was streamed (3 text chunks) and the
    // prompt's text (the body was read here to look for include_usage), about 4 characters a token
    // with the chat framing, which is also how the mock counts; the estimate is priced.
    const prompt = mockChatPrompt(['Hello there']);
    expect(await st.recordOf(viaRes)).toMatchObject({
      is_stream: 1,
      model: 'gpt-4o-mini',
      usage_status: 'estimated',
      completion_tokens: 3,
      prompt_tokens: prompt,
      total_tokens: prompt + 3,
      cost_nano_usd: nanoUsd('gpt-4o-mini', prompt, 3),
    });
  });

  it('non-streamed completion bodies are forwarded byte for byte even with STREAM_INCLUDE_USAGE on', async () => {
    const pretty = JSON.stringify(
      { messages: [{ content: 'Hello there', role: 'user' }], model: 'gpt-4o-mini' },
      null,
      3,
    );
    const res = await st.proxy('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: pretty,
    });
    expect(res.status).toBe(200);
    const rec = st.mock.requests().at(-1);
    expect(rec?.bodyBytes).toBe(Buffer.byteLength(pretty));
    expect(rec?.headers['content-length']).toBe(String(Buffer.byteLength(pretty)));
  });

  it('with STREAM_INCLUDE_USAGE=false the upstream gets the client’s exact bytes and the stream is untouched', async () => {
    // Unusual spacing and key order: any re-serialisation would change the length.
    const body = `{ "stream" : true,\n  "messages": [ {"role":"user", "content":"Hello there"} ],\n  "model":"gpt-4o-mini" }`;
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-chunks': '7' },
      body,
    };
    const viaRes = await plain.proxy('/v1/chat/completions', init);
    const via = await viaRes.text();
    const up = plain.mock.requests().at(-1);
    expect(up?.bodyBytes).toBe(Buffer.byteLength(body));
    expect(up?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    const direct = await (await plain.direct('/v1/chat/completions', init)).text();
    expect(normaliseIds(via)).toBe(normaliseIds(direct));
    expect(via).not.toContain('"usage"');
    expect(await plain.recordOf(viaRes)).toMatchObject({
      is_stream: 1,
      model: 'gpt-4o-mini',
      // The body was not read (nothing needed it), so only the output is estimated (7 text chunks)
      // and priced: the cost is that of the output alone (docs/proxy.md#stream_include_usage).
      usage_status: 'estimated',
      prompt_tokens: null,
      completion_tokens: 7,
      total_tokens: 7,
      cost_nano_usd: nanoUsd('gpt-4o-mini', 0, 7),
      finish_reason: 'stop',
      bytes_in: Buffer.byteLength(body),
    });

    // The same request with the feature on is rewritten (so the check above means something).
    await (await st.proxy('/v1/chat/completions', init)).text();
    expect(st.mock.requests().at(-1)?.bodyBytes).not.toBe(Buffer.byteLength(body));
  });

  it('with STREAM_INCLUDE_USAGE=false a stream that carried no text has no counts and no cost', async () => {
    const res = await plain.proxy('/v1/chat/completions', json(chat(), { 'x-mock-chunks': '0' }));
    await res.text();
    expect(await plain.recordOf(res)).toMatchObject({
      is_stream: 1,
      usage_status: 'missing',
      prompt_tokens: null,
      completion_tokens: null,
      total_tokens: null,
      cost_nano_usd: null,
    });
  });

  it.each([
    ['filtered (include_usage injected)', {}],
    ['unfiltered (client asked for usage)', { stream_options: { include_usage: true } }],
  ])('SSE events are flushed to the client as they arrive: %s', async (_name, extra) => {
    const stack = st;
    stack.mock.reset();
    const res = await stack.proxy(
      '/v1/chat/completions',
      json(chat(extra), { 'x-mock-chunks': '2', 'x-mock-chunk-delay-ms': '150' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const firstText = Buffer.from(first.value ?? []).toString();
    // The first event is here while the upstream is still streaming (≥ 0.6 s of chunks to go).
    expect(stack.mock.stats()).toMatchObject({ activeStreams: 1, completedStreams: 0 });
    expect(firstText).toContain('"role":"assistant"');
    expect(firstText).not.toContain('[DONE]');
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += Buffer.from(value).toString();
    }
    expect(rest.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(stack.mock.stats()).toMatchObject({ activeStreams: 0, completedStreams: 1 });
  });

  it('Responses API stream: passed through unchanged, usage captured from response.completed', async () => {
    const body = { model: 'gpt-4.1-mini', input: 'Say hi', stream: true };
    const { via, direct, viaRes } = await viaAndDirect(st, '/v1/responses', body, { 'x-mock-chunks': '30' });
    expect(viaRes.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(normaliseIds(via)).toBe(normaliseIds(direct));
    expect(via).toContain('event: response.completed\n');
    // Responses requests are never rewritten.
    expect(st.mock.requests().at(-2)?.bodyBytes).toBe(JSON.stringify(body).length);
    expect(await st.recordOf(viaRes)).toMatchObject({
      path: '/v1/responses',
      is_stream: 1,
      model: 'gpt-4.1-mini',
      prompt_tokens: 6,
      completion_tokens: 30,
      total_tokens: 36,
      cached_tokens: 0,
      reasoning_tokens: 0,
      finish_reason: 'completed',
      bytes_out: Buffer.byteLength(via),
    });
  });
});
