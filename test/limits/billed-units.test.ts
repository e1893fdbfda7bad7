import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { budgetState, mockChatPrompt } from './helpers.js';

/**
 * Every billed unit through the proxy with the official client against the mock upstream: the
 * record's units and its cost, worked out here from the shipped table's figures. Costs are
 * computed in nano-dollars, the unit records count in.
 */
const nano = (n: number) => Math.round(n);

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => {
  await st.stop();
});

const unitsOf = (rec: { billed_units: string | null }) =>
  rec.billed_units === null ? null : JSON.parse(rec.billed_units);

describe('prices of every billed unit, recorded through the proxy', () => {
  it('images.generate with n=2 in hd (DALL·E 3): per image, size and quality from the request', async () => {
    const res = await st.client.images
      .generate({ model: 'dall-e-3', prompt: 'a lighthouse', n: 2, quality: 'hd', size: '1024x1792' })
      .withResponse();
    expect(res.data.data).toHaveLength(2);
    const rec = await st.recordOf(res.response);
    expect(unitsOf(rec)).toEqual({ images: 2, size: '1024x1792', quality: 'hd' });
    expect(rec).toMatchObject({ model: 'dall-e-3', usage_status: 'reported', total_tokens: null });
    expect(rec.cost_nano_usd).toBe(nano(2 * 0.12 * 1e9)); // $0.12 each
  });

  it('gpt-image-1: priced by its image tokens, never also per image', async () => {
    const res = await st.client.images
      .generate({ model: 'gpt-image-1', prompt: 'a red fox', quality: 'low', n: 3 })
      .withResponse();
    const rec = await st.recordOf(res.response);
    expect(unitsOf(rec)).toEqual({ images: 3, size: '1024x1024', quality: 'low', image_output_tokens: 3 * 272 });
    const input = Math.ceil('a red fox'.length / 4);
    expect(rec.cost_nano_usd).toBe(nano((input * 5 + 3 * 272 * 40) * 1000));
  });

  it('audio.speech: characters of the input at the per-character price', async () => {
    const input = 'Hello from the proxy. '.repeat(20);
    const res = await st.client.audio.speech.create({ model: 'tts-1-hd', voice: 'alloy', input }).withResponse();
    await res.data.arrayBuffer();
    const rec = await st.recordOf(res.response);
    expect(unitsOf(rec)).toEqual({ characters: input.length });
    expect(rec).toMatchObject({ model: 'tts-1-hd', usage_status: 'reported' });
    expect(rec.cost_nano_usd).toBe(nano(input.length * 30 * 1000)); // $30 per 1M characters
  });

  it('audio.transcriptions with whisper-1: seconds the upstream reports, per minute', async () => {
    const res = await st.client.audio.transcriptions
      .create({ model: 'whisper-1', file: await toFile(Buffer.alloc(200_000, 1), 'a.mp3') })
      .withResponse();
    const rec = await st.recordOf(res.response);
    const seconds = Math.ceil(200_000 / 16_000); // the mock's 128 kbit/s
    expect(unitsOf(rec)).toEqual({ seconds });
    expect(rec).toMatchObject({ model: 'whisper-1', usage_status: 'reported' });
    expect(rec.cost_nano_usd).toBe(nano((seconds * 0.006 * 1e9) / 60));
  });

  it('a transcription in a format without a duration is charged the upload’s longest duration, as an estimate', async () => {
    const res = await st.client.audio.transcriptions
      .create({ model: 'whisper-1', file: await toFile(Buffer.alloc(30_000, 1), 'a.mp3'), response_format: 'text' })
      .withResponse();
    const rec = await st.recordOf(res.response);
    const seconds = unitsOf(rec).seconds as number;
    expect(seconds).toBe(Math.ceil(Number(rec.bytes_in) / 1000)); // the whole upload at 8 kbit/s
    expect(rec.usage_status).toBe('estimated');
    expect(rec.cost_nano_usd).toBe(nano((seconds * 0.006 * 1e9) / 60));
  });

  it('responses with the web_search tool: the call fee on top of tokens, at the model family’s rate', async () => {
    const res = await st.client.responses
      .create(
        { model: 'gpt-4.1-mini', input: 'What happened today?', tools: [{ type: 'web_search' }] },
        { headers: { 'x-mock-chunks': '40' } },
      )
      .withResponse();
    expect(res.data.output.map((o) => o.type)).toEqual(['web_search_call', 'message']);
    const rec = await st.recordOf(res.response);
    expect(unitsOf(rec)).toEqual({ web_search: 1 });
    const input = Number(rec.prompt_tokens);
    // gpt-4.1-mini 0.4 / 1.6 per 1M tokens, and $25 per 1k web searches for the gpt-4.1 family.
    expect(rec.cost_nano_usd).toBe(nano((input * 0.4 + 40 * 1.6) * 1000 + 25 * 1e6));
  });

  it('a streamed response with file search and code interpreter, in the flex tier (half the token rates)', async () => {
    const stream = await st.client.responses.create(
      {
        model: 'o4-mini',
        input: 'Look it up and compute.',
        service_tier: 'flex',
        stream: true,
        tools: [
          { type: 'file_search', vector_store_ids: ['vs_1'] },
          { type: 'code_interpreter', container: { type: 'auto' } },
        ],
      },
      { headers: { 'x-mock-chunks': '30' } },
    );
    let id = '';
    for await (const event of stream) if (event.type === 'response.completed') id = event.response.id;
    expect(id).not.toBe('');
    const [rec] = (await st.waitUsage(st.tokenId, 1)).filter((r) => r.model === 'o4-mini');
    expect(rec).toBeDefined();
    if (!rec) return;
    expect(rec.service_tier).toBe('flex');
    expect(unitsOf(rec)).toEqual({ file_search: 1, code_interpreter: 1 });
    const input = Number(rec.prompt_tokens);
    // o4-mini 1.1 / 4.4, halved; file search $2.50 per 1k calls, a container $0.03.
    expect(rec.cost_nano_usd).toBe(nano(((input * 1.1 + 30 * 4.4) / 2) * 1000 + 2.5 * 1e6 + 0.03 * 1e9));
  });

  it('chat with audio: audio tokens at the audio rates, in the priority tier where the model has none (standard)', async () => {
    const data = Buffer.alloc(3000, 7).toString('base64'); // 4000 base64 characters: 40 audio tokens to the mock
    const res = await st.client.chat.completions
      .create(
        {
          model: 'gpt-4o-audio-preview',
          modalities: ['text', 'audio'],
          audio: { voice: 'alloy', format: 'wav' },
          service_tier: 'priority',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Say it back.' },
                { type: 'input_audio', input_audio: { data, format: 'wav' } },
              ],
            },
          ],
        },
        { headers: { 'x-mock-chunks': '10' } },
      )
      .withResponse();
    const rec = await st.recordOf(res.response);
    expect(rec.service_tier).toBe('priority');
    expect(unitsOf(rec)).toEqual({ audio_input_tokens: 40, audio_output_tokens: 20 });
    const text = Number(rec.prompt_tokens) - 40;
    expect(text).toBe(mockChatPrompt(['Say it back.']));
    // gpt-4o-audio-preview: text 2.5 / 10, audio 40 / 80 per 1M tokens.
    expect(rec.cost_nano_usd).toBe(nano((text * 2.5 + 40 * 40 + 10 * 10 + 20 * 80) * 1000));
  });

  it('the usage API shows service_tier and billed_units', async () => {
    const res = await st.client.images.generate({ model: 'dall-e-2', prompt: 'x', size: '256x256' }).withResponse();
    await st.recordOf(res.response);
    const id = res.response.headers.get('x-llm-proxy-request-id');
    const view = await st.s.manage('GET', `/usage/records/${id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      billed_units: { images: 1, size: '256x256' },
      service_tier: null,
      cost_nano_usd: nano(0.016 * 1e9),
    });
  });
});

describe('reservations by unit before the call', () => {
  it('a budget that cannot cover an image request’s reservation refuses it before the upstream is called', async () => {
    // $0.20: enough for two hd 1024x1024 DALL·E 3 images ($0.08 each), not for three.
    const t = await st.issueToken({ budget_usd: 0.2 });
    const client = st.clientFor(t.token);
    const before = st.mock.stats().requests;
    const refused = await client.images
      .generate({ model: 'dall-e-3', prompt: 'three foxes', n: 3, quality: 'hd' })
      .catch((err: unknown) => err as { status: number; code: string });
    expect(refused).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect(st.mock.stats().requests).toBe(before);
    expect(await budgetState(st, 'token', t.id)).toMatchObject({ spentNanoUsd: 0, reservedNanoUsd: 0 });

    const ok = await client.images
      .generate({ model: 'dall-e-3', prompt: 'two foxes', n: 2, quality: 'hd' })
      .withResponse();
    const rec = await st.recordOf(ok.response, t.id);
    expect(rec.cost_nano_usd).toBe(160_000_000);
    expect(await budgetState(st, 'token', t.id)).toEqual({ spentNanoUsd: 160_000_000, reservedNanoUsd: 0 });
  });

  it('speech reserves its characters; a transcription the upload’s longest duration', async () => {
    const t = await st.issueToken({ budget_usd: 0.001 });
    const client = st.clientFor(t.token);
    // 100 characters of tts-1 ($15 per 1M): $0.0015, over the budget.
    const refused = await client.audio.speech
      .create({ model: 'tts-1', voice: 'alloy', input: 'y'.repeat(100) })
      .catch((err: unknown) => err as { status: number; code: string });
    expect(refused).toMatchObject({ status: 429, code: 'budget_exceeded' });
    const fits = await client.audio.speech
      .create({ model: 'tts-1', voice: 'alloy', input: 'y'.repeat(60) })
      .withResponse();
    await fits.data.arrayBuffer();
    expect((await st.recordOf(fits.response, t.id)).cost_nano_usd).toBe(900_000);
    // 20 KB at 8 kbit/s is up to 20 s of whisper-1: $0.002 reserved, more than the $0.0001 left.
    const upload = await client.audio.transcriptions
      .create({ model: 'whisper-1', file: await toFile(Buffer.alloc(20_000, 1), 'a.mp3') })
      .catch((err: unknown) => err as { status: number; code: string });
    expect(upload).toMatchObject({ status: 429, code: 'budget_exceeded' });
  });
});
