import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRow } from '../../src/store/schema.js';
import { closedPort, json, type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

const messages = [{ role: 'user' as const, content: 'Hello there' }];

function expectTimings(rec: UsageRow): void {
  expect(rec.duration_ms).toBeGreaterThanOrEqual(0);
  expect(rec.upstream_ms).toBeGreaterThanOrEqual(0);
  expect(rec.ttfb_ms).toBeGreaterThanOrEqual(0);
  expect(rec.duration_ms).toBeGreaterThanOrEqual(rec.upstream_ms ?? 0);
  expect(Math.abs(Number(rec.created_at) - Date.now())).toBeLessThan(60_000);
}

describe('proxy: usage records', () => {
  it('JSON chat: the record has the tokens the client was told about', async () => {
    const body = { model: 'gpt-4o-mini', messages };
    const { data, response } = await st.client.chat.completions.create(body).withResponse();
    const rec = await st.recordOf(response);
    expect(rec).toMatchObject({
      token_id: st.tokenId,
      project_id: st.projectId,
      method: 'POST',
      path: '/v1/chat/completions',
      model: 'gpt-4o-mini',
      status: 200,
      is_stream: 0,
      prompt_tokens: data.usage?.prompt_tokens,
      completion_tokens: data.usage?.completion_tokens,
      total_tokens: data.usage?.total_tokens,
      cached_tokens: 0,
      reasoning_tokens: 0,
      finish_reason: 'stop',
      bytes_out: Number(response.headers.get('content-length')),
      error: null,
    });
    expect(data.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 16, total_tokens: 26 });
    expect(rec.bytes_in).toBeGreaterThan(0);
    expectTimings(rec);
  });

  it('streamed chat: tokens captured although the client never saw usage', async () => {
    const { data: stream, response } = await st.client.chat.completions
      .create({ model: 'gpt-4o-mini', messages, stream: true }, { headers: { 'x-mock-chunks': '42' } })
      .withResponse();
    let sawUsage = false;
    for await (const chunk of stream) if (chunk.usage) sawUsage = true;
    expect(sawUsage).toBe(false);
    expect(await st.recordOf(response)).toMatchObject({
      is_stream: 1,
      model: 'gpt-4o-mini',
      prompt_tokens: 10,
      completion_tokens: 42,
      total_tokens: 52,
      finish_reason: 'stop',
      error: null,
    });
  });

  it('embeddings: prompt and total tokens, no completion tokens', async () => {
    const { data, response } = await st.client.embeddings
      .create({ model: 'text-embedding-3-large', input: ['one two three', 'four'], encoding_format: 'float' })
      .withResponse();
    expect(data.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    const rec = await st.recordOf(response);
    expect(rec).toMatchObject({
      path: '/v1/embeddings',
      model: 'text-embedding-3-large',
      prompt_tokens: 5,
      completion_tokens: null,
      total_tokens: 5,
      is_stream: 0,
      bytes_out: Number(response.headers.get('content-length')),
    });
    // A large body (3072 floats × 2): usage still read from its tail.
    expect(rec.bytes_out).toBeGreaterThan(50_000);
  });

  it('embeddings too large to parse whole still record their usage', async () => {
    const input = Array.from({ length: 100 }, (_, i) => `input number ${i}`);
    const res = await st.proxy(
      '/v1/embeddings',
      json({ model: 'text-embedding-3-large', input, encoding_format: 'float' }),
    );
    const body = (await res.json()) as any;
    const rec = await st.recordOf(res);
    expect(rec.bytes_out).toBeGreaterThan(2 * 1024 * 1024);
    expect(rec).toMatchObject({
      model: 'text-embedding-3-large',
      prompt_tokens: body.usage.prompt_tokens,
      total_tokens: body.usage.total_tokens,
    });
  });

  it('responses, JSON and stream: input/output tokens and final status', async () => {
    const json1 = await st.client.responses.create({ model: 'gpt-4.1', input: 'Say hi' }).withResponse();
    expect(await st.recordOf(json1.response)).toMatchObject({
      path: '/v1/responses',
      model: 'gpt-4.1',
      is_stream: 0,
      prompt_tokens: json1.data.usage?.input_tokens,
      completion_tokens: json1.data.usage?.output_tokens,
      total_tokens: json1.data.usage?.total_tokens,
      cached_tokens: 0,
      reasoning_tokens: 0,
      finish_reason: 'completed',
    });

    const streamed = await st.client.responses
      .create({ model: 'gpt-4.1', input: [{ role: 'user', content: 'Say hi please' }], stream: true })
      .withResponse();
    let usage: any;
    for await (const ev of streamed.data) if (ev.type === 'response.completed') usage = ev.response.usage;
    expect(usage).toMatchObject({ input_tokens: 8, output_tokens: 16 });
    expect(await st.recordOf(streamed.response)).toMatchObject({
      is_stream: 1,
      model: 'gpt-4.1',
      prompt_tokens: usage.input_tokens,
      completion_tokens: usage.output_tokens,
      total_tokens: usage.total_tokens,
      finish_reason: 'completed',
    });
  });

  it('newer audio and image models: input/output tokens', async () => {
    const tr = await st.client.audio.transcriptions
      .create({ file: await toFile(Buffer.alloc(40_000, 1), 'a.mp3'), model: 'gpt-4o-transcribe' })
      .withResponse();
    expect(await st.recordOf(tr.response)).toMatchObject({
      path: '/v1/audio/transcriptions',
      prompt_tokens: 30,
      completion_tokens: 11,
      total_tokens: 41,
    });
    const img = await st.client.images
      .generate({ model: 'gpt-image-1', prompt: 'a red fox', quality: 'low' })
      .withResponse();
    expect(await st.recordOf(img.response)).toMatchObject({
      path: '/v1/images/generations',
      prompt_tokens: 3,
      completion_tokens: 272,
      total_tokens: 275,
    });
  });

  it('method, path (without query), status, bytes in and out for plain requests', async () => {
    const list = await st.proxy('/v1/files?purpose=batch&limit=5');
    const listBody = Buffer.from(await list.arrayBuffer());
    expect(await st.recordOf(list)).toMatchObject({
      method: 'GET',
      path: '/v1/files',
      status: 200,
      model: null,
      prompt_tokens: null,
      bytes_in: 0,
      bytes_out: listBody.length,
      is_stream: 0,
    });

    const payload = JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'byte counting' });
    const speech = await st.proxy('/v1/audio/speech', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
    });
    const audio = Buffer.from(await speech.arrayBuffer());
    expect(await st.recordOf(speech)).toMatchObject({
      method: 'POST',
      path: '/v1/audio/speech',
      status: 200,
      bytes_in: Buffer.byteLength(payload),
      bytes_out: audio.length,
    });

    const missing = await st.proxy('/v1/models/nope', { method: 'DELETE' });
    expect(await st.recordOf(missing)).toMatchObject({ method: 'DELETE', path: '/v1/models/nope', status: 404 });
  });
});

describe('proxy: logs', () => {
  it('never contain a proxy token or an upstream key, after successes and failures alike', async () => {
    const extra = await st.issueToken({ max_requests: 1 });
    const revoked = await st.issueToken();
    await st.s.manage('DELETE', `/tokens/${revoked.id}`);
    const down = await st.addProject('logs-down', `http://127.0.0.1:${await closedPort()}`);
    const bogus = 'sk-llmp-bogus-token-that-nobody-issued-123456789';

    const calls: Array<Promise<Response>> = [
      st.proxy('/v1/models'),
      st.proxy('/v1/models', { token: null, headers: { 'api-key': st.token } }),
      st.proxy('/v1/chat/completions', json({ model: 'gpt-4o-mini', messages, stream: true })),
      st.proxy('/v1/chat/completions', json({ model: 'gpt-4o-mini', messages }, { 'x-mock-status': '500' })),
      st.proxy('/v1/chat/completions', json({ model: 'gpt-4o-mini', messages }, { 'x-mock-status': '401' })),
      st.proxy('/v1/models', { token: bogus }),
      st.proxy('/v1/models', { token: revoked.token }),
      st.proxy('/v1/models', { token: down.token }),
      st.proxy('/v1/models', { token: null }),
      st.proxy('/v1/models', { token: extra.token }),
      st.proxy('/v1/models', { token: extra.token }), // 429
      st.proxy('/v1/chat/completions', {
        method: 'POST',
        body: '{"not json',
        headers: { 'content-type': 'application/json' },
      }),
    ];
    const statuses = [];
    for (const res of await Promise.all(calls)) {
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.sort()).toEqual([200, 200, 200, 200, 400, 401, 401, 401, 401, 429, 500, 502]);
    await st.usage();

    const logs = st.s.logs();
    // The captured logs are real: every proxied request has its line.
    expect(logs).toContain('"msg":"proxy request"');
    expect(logs).toContain('"msg":"proxy refused"');
    expect(logs).toContain('"error":"upstream_unavailable"');
    for (const secret of [st.token, extra.token, revoked.token, down.token, bogus, UPSTREAM_KEY]) {
      expect(logs.includes(secret), `a secret ending in ${secret.slice(-6)} was logged`).toBe(false);
    }
    // Not even a long fragment of the upstream key.
    expect(logs).not.toContain(UPSTREAM_KEY.slice(0, 20));
  });
});
