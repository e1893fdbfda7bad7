import { beforeEach, describe, expect, it } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';
import { until } from '../../test/helpers/proxy.js';
import { RealtimeClient } from '../../test/helpers/realtime-client.js';
import { MOCK_HEADERS, mockRealtimeUsage } from './index.js';

const ctx = useMockUpstream({ chunks: 6 });
beforeEach(() => ctx.mock.reset());

// 3 priming + 4 per message + ceil(11 / 4) = 10 prompt tokens.
const messages = [{ role: 'user' as const, content: 'hello there' }];
const chat = <S extends boolean>(stream: S) => ({ model: 'gpt-4o-mini', messages, stream });

async function post(path: string, body: object, headers: Record<string, string> = {}) {
  const res = await fetch(`${ctx.mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  let failed = false;
  try {
    await res.text();
  } catch {
    failed = true;
  }
  return { id: res.headers.get('x-request-id'), status: res.status, failed };
}

describe('mock upstream: the ledger', () => {
  it('bills an answer the usage it reported, under its x-request-id', async () => {
    const { data, response } = await ctx.client.chat.completions
      .create(chat(false), { headers: { [MOCK_HEADERS.cachedTokens]: '4', [MOCK_HEADERS.reasoningTokens]: '3' } })
      .withResponse();
    expect(data.usage).toMatchObject({
      prompt_tokens: 10,
      completion_tokens: 9,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
    expect(ctx.mock.ledger()).toEqual([
      {
        id: response.headers.get('x-request-id'),
        endpoint: '/v1/chat/completions',
        model: 'gpt-4o-mini',
        service_tier: 'default',
        usage: data.usage,
        tool_calls: {},
        at: expect.any(Number),
      },
    ]);
  });

  it('bills a stream in full whether or not it reported usage', async () => {
    const quiet = await post('/v1/chat/completions', chat(true));
    const told = await post('/v1/chat/completions', { ...chat(true), stream_options: { include_usage: true } });
    const ledger = ctx.mock.ledger();
    expect(ledger.map((e) => e.id)).toEqual([quiet.id, told.id]);
    for (const e of ledger)
      expect(e.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 });
  });

  it('bills a stream ended early for the prompt and the pieces it sent; one that sent nothing, nothing', async () => {
    // Chat frames: the role chunk, then one per piece: 3 frames carry 2 pieces.
    const cut = await post('/v1/chat/completions', chat(true), { [MOCK_HEADERS.cutAfter]: '3' });
    expect(cut.failed).toBe(true);
    const truncated = await post(
      '/v1/completions',
      { model: 'm', prompt: 'hello there', stream: true },
      {
        [MOCK_HEADERS.truncateAfter]: '4',
      },
    );
    // Responses frames: four before the first delta.
    const responses = await post(
      '/v1/responses',
      { model: 'm', input: 'hi', stream: true },
      {
        [MOCK_HEADERS.cutAfter]: '5',
        [MOCK_HEADERS.chunkDelayMs]: '1',
      },
    );
    await post('/v1/chat/completions', chat(true), { [MOCK_HEADERS.cutAfter]: '0' });
    await until(() => ctx.mock.stats().activeStreams === 0);
    const byId = new Map(ctx.mock.ledger().map((e) => [e.id, e.usage]));
    expect(byId.size).toBe(3);
    expect(byId.get(cut.id as string)).toMatchObject({ prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
    expect(byId.get(truncated.id as string)).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    expect(byId.get(responses.id as string)).toMatchObject({ input_tokens: 5, output_tokens: 1, total_tokens: 6 });
  });

  it('x-mock-stall-after: N sends N events and bills them, then waits for the client to leave', async () => {
    const controller = new AbortController();
    const res = await fetch(`${ctx.mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [MOCK_HEADERS.stallAfter]: '4' },
      body: JSON.stringify(chat(true)),
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (text.split('\n\n').length <= 4) text += Buffer.from((await reader.read()).value ?? []).toString();
    expect(ctx.mock.stats().activeStreams).toBe(1);
    expect(ctx.mock.ledger()[0]?.usage).toMatchObject({ completion_tokens: 3 });
    controller.abort();
    await until(() => ctx.mock.stats().abortedStreams === 1);
    expect(ctx.mock.ledger()).toHaveLength(1);
  });

  it('bills nothing for a failed request', async () => {
    expect((await post('/v1/chat/completions', chat(false), { [MOCK_HEADERS.status]: '429' })).status).toBe(429);
    expect((await post('/v1/chat/completions', { model: 'm' })).status).toBe(400);
    expect(ctx.mock.ledger()).toEqual([]);
  });

  it('bills embeddings and serves the ledger on GET /__mock/ledger; reset empties it', async () => {
    const { response } = await ctx.client.embeddings
      .create({ model: 'text-embedding-3-small', input: ['abcd', 'abcdefgh'] })
      .withResponse();
    const body = await (await fetch(`${ctx.mock.url}/__mock/ledger`)).json();
    expect(body).toEqual({
      data: [
        {
          id: response.headers.get('x-request-id'),
          endpoint: '/v1/embeddings',
          model: 'text-embedding-3-small',
          service_tier: null,
          usage: { prompt_tokens: 3, total_tokens: 3 },
          tool_calls: {},
          at: expect.any(Number),
        },
      ],
      dropped: 0,
    });
    expect((await fetch(`${ctx.mock.url}/__mock/reset`, { method: 'POST' })).status).toBe(204);
    expect(ctx.mock.ledger()).toEqual([]);
  });

  it('bills realtime responses by id: at response.done, and a cut one for what it produced', async () => {
    const url = `${ctx.mock.url.replace('http', 'ws')}/v1/realtime?model=gpt-realtime&mock_cut_response=2`;
    const rt = await RealtimeClient.open(url);
    rt.send({ type: 'response.create' });
    const done = (await rt.event('response.done')) as { response?: { id?: string; usage?: unknown } };
    rt.send({ type: 'response.create' });
    const cut = (await rt.event('response.created', 2)) as { response?: { id?: string } };
    await rt.whenClosed();
    expect(ctx.mock.ledger().map(({ id, endpoint, model, usage }) => ({ id, endpoint, model, usage }))).toEqual([
      { id: done.response?.id, endpoint: '/v1/realtime', model: 'gpt-realtime', usage: done.response?.usage },
      { id: cut.response?.id, endpoint: '/v1/realtime', model: 'gpt-realtime', usage: mockRealtimeUsage(2, 2) },
    ]);
    expect(mockRealtimeUsage(2, 2)).toMatchObject({ input_tokens: 152, output_tokens: 13 + 53 });
  });
});
