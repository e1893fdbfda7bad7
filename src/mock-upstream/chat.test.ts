import type OpenAI from 'openai';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';
import { MOCK_HEADERS } from './index.js';

const ctx = useMockUpstream({ chunks: 6 });
beforeEach(() => ctx.mock.reset());

// 3 priming + 4 per message + ceil(chars / 4): 3 + 4 + ceil(11 / 4) = 10.
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hello there' }];
const headers = (h: Record<string, number>) => ({
  headers: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)])),
});

describe('chat completions', () => {
  it('answers JSON with deterministic usage and the model echoed', async () => {
    const completion = await ctx.client.chat.completions.create({ model: 'my-model', messages });
    expect(completion).toMatchObject({ object: 'chat.completion', model: 'my-model' });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({
      prompt_tokens: 10,
      completion_tokens: 6,
      total_tokens: 16,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
    const again = await ctx.client.chat.completions.create({ model: 'my-model', messages });
    expect(again.choices[0]?.message.content).toBe(completion.choices[0]?.message.content);
  });

  it('takes the chunk count from x-mock-chunks', async () => {
    const completion = await ctx.client.chat.completions.create(
      { model: 'm', messages },
      headers({ [MOCK_HEADERS.chunks]: 3 }),
    );
    expect(completion.usage?.completion_tokens).toBe(3);
    expect(completion.choices[0]?.message.content?.split(' ')).toHaveLength(3);
  });

  it('streams chunks without usage unless asked', async () => {
    const stream = await ctx.client.chat.completions.create({ model: 'm', messages, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toHaveLength(1 + 6 + 1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const json = await ctx.client.chat.completions.create({ model: 'm', messages });
    expect(text).toBe(json.choices[0]?.message.content);
    expect(ctx.mock.stats()).toMatchObject({ completedStreams: 1, abortedStreams: 0, activeStreams: 0 });
  });

  it('ends with a usage chunk when stream_options.include_usage is set', async () => {
    const stream = await ctx.client.chat.completions.create({
      model: 'm',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('writes SSE frames ending in data: [DONE]', async () => {
    const res = await fetch(`${ctx.mock.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text.endsWith('\n\ndata: [DONE]\n\n')).toBe(true);
    expect(
      text
        .split('\n\n')
        .filter(Boolean)
        .every((frame) => frame.startsWith('data: ')),
    ).toBe(true);
  });
});

describe('legacy completions', () => {
  it('answers JSON and streams text_completion chunks', async () => {
    const json = await ctx.client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'say hi' });
    expect(json).toMatchObject({ object: 'text_completion', model: 'gpt-3.5-turbo-instruct' });
    expect(json.usage).toEqual({ prompt_tokens: 2, completion_tokens: 6, total_tokens: 8 });

    const stream = await ctx.client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: [1, 2, 3],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(json.choices[0]?.text);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 });
  });
});

describe('stream pacing and aborts', () => {
  it('waits ttft before the first chunk and chunk delay between chunks', async () => {
    const started = performance.now();
    const stream = await ctx.client.chat.completions.create(
      { model: 'm', messages, stream: true },
      headers({ [MOCK_HEADERS.ttftMs]: 200, [MOCK_HEADERS.chunkDelayMs]: 30, [MOCK_HEADERS.chunks]: 5 }),
    );
    let firstAt = 0;
    for await (const _chunk of stream) firstAt ||= performance.now() - started;
    const total = performance.now() - started;
    expect(firstAt).toBeGreaterThanOrEqual(180);
    // 5 content chunks + finish + [DONE] after the first, 30 ms apart.
    expect(total - firstAt).toBeGreaterThanOrEqual(150);
  });

  it('waits for drain when the client reads slowly, losing nothing', async () => {
    const chunks = 50_000;
    const res = await fetch(`${ctx.mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { [MOCK_HEADERS.ttftMs]: '1', [MOCK_HEADERS.chunks]: String(chunks) },
      body: JSON.stringify({ model: 'm', messages, stream: true }),
    });
    // Not reading yet lets the socket buffers fill, so the server's writes start returning false:
    // it writes until then without yielding, so output that stops growing means it waits for drain
    // (or it finished, if the buffers took everything).
    let sent = -1;
    for (;;) {
      const { bytesOut, completedStreams } = ctx.mock.stats();
      if (completedStreams > 0 || (bytesOut > 0 && bytesOut === sent)) break;
      sent = bytesOut;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const text = await res.text();
    expect(text.split('\n\n').filter((frame) => frame.startsWith('data: '))).toHaveLength(chunks + 3);
    expect(ctx.mock.stats()).toMatchObject({ completedStreams: 1, activeStreams: 0 });
  });

  it('counts a client that leaves mid-stream as an aborted stream', async () => {
    const controller = new AbortController();
    const stream = await ctx.client.chat.completions.create(
      { model: 'm', messages, stream: true },
      { ...headers({ [MOCK_HEADERS.chunkDelayMs]: 20, [MOCK_HEADERS.chunks]: 200 }), signal: controller.signal },
    );
    let seen = 0;
    for await (const _chunk of stream) {
      if (++seen === 3) controller.abort();
    }
    await vi.waitFor(() => expect(ctx.mock.stats()).toMatchObject({ abortedStreams: 1, activeStreams: 0 }));
    expect(ctx.mock.stats().completedStreams).toBe(0);
    // Stopped early: far fewer than the ~200 frames were written.
    expect(ctx.mock.stats().bytesOut).toBeLessThan(200 * 100);
  });
});
