import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { budgetState, chatBody, costSum, estimateTokens, mockChatPrompt, nanoUsd, postJson } from './helpers.js';

const MODEL = 'gpt-4o-mini';
const CONTENT = 'Stream me something';
const CHUNKS = 16; // the mock's default: one completion token per content chunk

/** Reads a response body to the end (SSE included) and returns it as text. */
const drain = async (res: Response) => res.text();

describe('budgets after streamed responses (STREAM_INCLUDE_USAGE on, the default)', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack();
  });
  afterAll(async () => st.stop());

  it('with and without include_usage from the client: settled spend equals the records, at the reported price', async () => {
    const t = await st.issueToken({ budget_usd: 1 });
    const client = st.clientFor(t.token);
    const expected = nanoUsd(MODEL, mockChatPrompt([CONTENT]), CHUNKS);

    // 1. The client asks for usage itself: it gets the final usage chunk.
    const withUsage = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: CONTENT }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let reported: unknown;
    for await (const chunk of withUsage) if (chunk.usage) reported = chunk.usage;
    expect(reported).toMatchObject({ prompt_tokens: mockChatPrompt([CONTENT]), completion_tokens: CHUNKS });

    // 2. The client does not: the proxy asks on its behalf and hides the usage chunk again.
    const without = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: CONTENT }],
      stream: true,
    });
    let sawUsage = false;
    for await (const chunk of without) if (chunk.usage) sawUsage = true;
    expect(sawUsage).toBe(false);

    // 3. A Responses API stream: usage comes in response.completed.
    const resp = await client.responses.create({ model: MODEL, input: CONTENT, stream: true });
    for await (const _ of resp) {
    }

    const rows = await st.usage(t.id);
    expect(rows.map((r) => [r.is_stream, r.usage_status])).toEqual([
      [1, 'reported'],
      [1, 'reported'],
      [1, 'reported'],
    ]);
    expect(rows[0]?.cost_nano_usd).toBe(expected);
    expect(rows[1]?.cost_nano_usd).toBe(expected);
    expect(rows[2]?.cost_nano_usd).toBe(nanoUsd(MODEL, rows[2]?.prompt_tokens ?? -1, CHUNKS));
    expect(await budgetState(st, 'token', t.id)).toEqual({ spentNanoUsd: costSum(rows), reservedNanoUsd: 0 });
  });

  it('a stream the client abandons is settled at what was produced, not at the reservation', async () => {
    const t = await st.issueToken({ budget_usd: 1 });
    const body = chatBody(MODEL, CONTENT, { stream: true, max_tokens: 2000 });
    const est = estimateTokens(body, 2000);
    const res = await postJson(st, '/v1/chat/completions', t.token, body, {
      'x-mock-chunks': '400',
      'x-mock-chunk-delay-ms': '5',
    });
    // Read a few chunks, then hang up.
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let seen = '';
    while ((seen.match(/"content":"/g) ?? []).length < 5) seen += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();

    const rows = await st.waitUsage(t.id, 1);
    const row = rows[0];
    expect(row?.usage_status).toBe('estimated');
    expect(row?.error).toBe('client_aborted');
    // Estimated: the prompt from its text (the mock counts the same way), one token per text event
    // the proxy relayed.
    const prompt = mockChatPrompt([CONTENT]);
    expect(row?.prompt_tokens).toBe(prompt);
    expect(row?.completion_tokens).toBeGreaterThanOrEqual(4);
    expect(row?.completion_tokens).toBeLessThan(400);
    const cost = nanoUsd(MODEL, prompt, row?.completion_tokens ?? 0);
    expect(row?.cost_nano_usd).toBe(cost);
    expect(cost).toBeLessThan(nanoUsd(MODEL, est.prompt, est.output));
    expect(await budgetState(st, 'token', t.id)).toEqual({ spentNanoUsd: cost, reservedNanoUsd: 0 });
  });
});

describe('budgets after streamed responses (STREAM_INCLUDE_USAGE=false)', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { STREAM_INCLUDE_USAGE: 'false' } });
  });
  afterAll(async () => st.stop());

  it('a stream without usage is settled at the estimate of what was streamed; one with usage at the report', async () => {
    const t = await st.issueToken({ budget_usd: 1 });
    const plain = chatBody(MODEL, CONTENT, { stream: true, max_tokens: 100 });
    await drain(await postJson(st, '/v1/chat/completions', t.token, plain));
    const asked = chatBody(MODEL, CONTENT, { stream: true, stream_options: { include_usage: true } });
    await drain(await postJson(st, '/v1/chat/completions', t.token, asked));

    const rows = await st.usage(t.id);
    expect(rows.map((r) => r.usage_status)).toEqual(['estimated', 'reported']);
    expect(rows[0]).toMatchObject({
      prompt_tokens: mockChatPrompt([CONTENT]),
      completion_tokens: CHUNKS,
      cost_nano_usd: nanoUsd(MODEL, mockChatPrompt([CONTENT]), CHUNKS),
    });
    expect(rows[1]?.cost_nano_usd).toBe(nanoUsd(MODEL, mockChatPrompt([CONTENT]), CHUNKS));
    expect(await budgetState(st, 'token', t.id)).toEqual({ spentNanoUsd: costSum(rows), reservedNanoUsd: 0 });
  });
});
