import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

// The mock's reply for its default 16 chunks: one word per chunk.
const REPLY = 'This is a deterministic reply from the llm-proxy mock upstream, one word per chunk so tests';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

const lastUpstream = () => st.mock.requests().at(-1);

describe('proxy: every endpoint family through the official client', () => {
  it('chat completions, JSON', async () => {
    const res = await st.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.choices[0]?.message.content).toBe(REPLY);
    expect(res.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 16, total_tokens: 26 });
    expect(lastUpstream()).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
  });

  it('chat completions, stream', async () => {
    const stream = await st.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello there' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(REPLY);
    expect(chunks).toBe(18); // role chunk + 16 content chunks + finish chunk
    expect(finish).toBe('stop');
  });

  it('legacy completions, JSON and stream', async () => {
    const res = await st.client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this' });
    expect(res.object).toBe('text_completion');
    expect(res.choices[0]?.text).toBe(REPLY);
    expect(res.usage).toEqual({ prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 });

    const stream = await st.client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say this',
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    expect(text).toBe(REPLY);
  });

  it('embeddings, float and base64, byte-identical to the upstream', async () => {
    const float = await st.client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['hello', 'world'],
      encoding_format: 'float',
    });
    expect(float.data).toHaveLength(2);
    expect(float.data[0]?.embedding).toHaveLength(1536);
    expect(float.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });

    const b64 = await st.client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello',
      encoding_format: 'base64',
    });
    const vector = b64.data[0]?.embedding as unknown as string;
    expect(typeof vector).toBe('string');
    expect(Buffer.from(vector, 'base64')).toHaveLength(1536 * 4);

    // Embeddings are deterministic: the proxied body equals a direct call byte for byte.
    for (const encoding_format of ['float', 'base64']) {
      const body = { model: 'text-embedding-3-small', input: 'hello', encoding_format };
      const via = Buffer.from(await (await st.proxy('/v1/embeddings', json(body))).arrayBuffer());
      const direct = Buffer.from(await (await st.direct('/v1/embeddings', json(body))).arrayBuffer());
      expect(via.equals(direct), encoding_format).toBe(true);
    }
  });

  it('responses, JSON and stream', async () => {
    const res = await st.client.responses.create({ model: 'gpt-4.1-mini', input: 'Say hi' });
    expect(res.object).toBe('response');
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe(REPLY);
    expect(res.usage).toMatchObject({ input_tokens: 6, output_tokens: 16, total_tokens: 22 });

    const stream = await st.client.responses.create({ model: 'gpt-4.1-mini', input: 'Say hi', stream: true });
    const types: string[] = [];
    let text = '';
    let completedUsage: unknown;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') completedUsage = ev.response.usage;
    }
    expect(text).toBe(REPLY);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(16);
    expect(completedUsage).toMatchObject({ input_tokens: 6, output_tokens: 16, total_tokens: 22 });
  });

  it('models, list and retrieve', async () => {
    const ids: string[] = [];
    for await (const m of st.client.models.list()) ids.push(m.id);
    expect(ids).toContain('gpt-4o');
    expect(ids).toContain('whisper-1');
    const one = await st.client.models.retrieve('gpt-4o-mini');
    expect(one).toMatchObject({ id: 'gpt-4o-mini', object: 'model', owned_by: 'system' });
    expect(lastUpstream()).toMatchObject({ method: 'GET', path: '/v1/models/gpt-4o-mini' });
  });

  it('moderations and images', async () => {
    const mod = await st.client.moderations.create({ model: 'omni-moderation-latest', input: ['a', 'b'] });
    expect(mod.results).toHaveLength(2);
    expect(mod.results[0]?.flagged).toBe(false);

    const img = await st.client.images.generate({ model: 'gpt-image-1', prompt: 'a cat', n: 2, quality: 'low' });
    expect(img.data).toHaveLength(2);
    expect(
      Buffer.from(img.data?.[0]?.b64_json ?? '', 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(img.usage).toMatchObject({ output_tokens: 544 });
  });

  it('audio speech: binary body byte-identical to a direct call', async () => {
    const input = 'Hello from the proxy test';
    const res = await st.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const via = Buffer.from(await res.arrayBuffer());
    const direct = Buffer.from(
      await (await st.direct('/v1/audio/speech', json({ model: 'tts-1', voice: 'alloy', input }))).arrayBuffer(),
    );
    expect(via.length).toBe(10 + input.length * 417);
    expect(via.equals(direct)).toBe(true);
  });

  it('audio transcriptions and translations (multipart uploads arrive whole)', async () => {
    const audio = Buffer.alloc(40_000, 7);
    const tr = await st.client.audio.transcriptions.create({
      file: await toFile(audio, 'speech.mp3', { type: 'audio/mpeg' }),
      model: 'whisper-1',
    });
    expect(tr.text).toBe('Mock transcription of 40000 bytes of audio.');
    expect(lastUpstream()?.path).toBe('/v1/audio/transcriptions');
    expect(lastUpstream()?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);

    const tl = await st.client.audio.translations.create({
      file: await toFile(audio.subarray(0, 12_345), 'speech.mp3'),
      model: 'whisper-1',
    });
    expect(tl.text).toBe('Mock translation of 12345 bytes of audio.');
  });

  it('files: upload, list, retrieve, download content, delete; and batches', async () => {
    const content = Buffer.from(
      `${Array.from({ length: 50 }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST' })).join('\n')}\n`,
    );
    const file = await st.client.files.create({ file: await toFile(content, 'input.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', bytes: content.length, filename: 'input.jsonl', purpose: 'batch' });

    const listed: string[] = [];
    for await (const f of st.client.files.list()) listed.push(f.id);
    expect(listed).toContain(file.id);
    expect((await st.client.files.retrieve(file.id)).bytes).toBe(content.length);

    const downloaded = Buffer.from(await (await st.client.files.content(file.id)).arrayBuffer());
    expect(downloaded.equals(content)).toBe(true);

    const batch = await st.client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(batch).toMatchObject({ object: 'batch', status: 'validating', input_file_id: file.id });
    expect((await st.client.batches.retrieve(batch.id)).id).toBe(batch.id);
    const batches: string[] = [];
    for await (const b of st.client.batches.list()) batches.push(b.id);
    expect(batches).toContain(batch.id);

    expect(await st.client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(st.client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });

  it('an unknown /v1 path is passed through: the upstream 404 body comes back unchanged', async () => {
    const via = await st.proxy('/v1/no/such/thing?x=1');
    const direct = await st.direct('/v1/no/such/thing?x=1');
    expect(via.status).toBe(404);
    const body = await via.text();
    expect(body).toBe(await direct.text());
    expect(JSON.parse(body).error.code).toBe('unknown_url');
    expect(body).toContain('GET /v1/no/such/thing');
    expect(lastUpstream()).toMatchObject({ method: 'GET', path: '/v1/no/such/thing?x=1' });
  });

  it('a path outside /v1 gets the proxy’s own 404 and never reaches the upstream', async () => {
    const before = st.mock.stats().requests;
    for (const path of ['/nope', '/v2/models', '/v1']) {
      const res = await st.proxy(path);
      expect(res.status, path).toBe(404);
      const body = (await res.json()) as any;
      expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_url' });
      expect(body.error.message).toBe(`Unknown request URL: GET ${path}.`);
    }
    expect(st.mock.stats().requests).toBe(before);
  });

  it('query strings and PUT/PATCH/DELETE methods reach the upstream as sent', async () => {
    const res = await st.proxy('/v1/files?purpose=batch&order=asc&limit=2');
    expect(res.status).toBe(200);
    expect(lastUpstream()?.path).toBe('/v1/files?purpose=batch&order=asc&limit=2');
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const r = await st.proxy('/v1/fine_tuning/jobs/x', { ...json({ a: 1 }), method });
      expect(r.status, method).toBe(404);
      expect(lastUpstream()).toMatchObject({ method, path: '/v1/fine_tuning/jobs/x', bodyBytes: 7 });
    }
  });
});
