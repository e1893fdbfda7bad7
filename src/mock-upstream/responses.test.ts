import { describe, expect, it } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';

const ctx = useMockUpstream({ chunks: 4 });

// ceil(8 / 4) for the input + 4 overhead.
const USAGE = {
  input_tokens: 6,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 4,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 10,
};

describe('responses', () => {
  it('answers JSON with an output message and usage', async () => {
    const response = await ctx.client.responses.create({ model: 'gpt-4.1', input: 'hi there' });
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4.1', usage: USAGE });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output_text.split(' ')).toHaveLength(4);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
  });

  it('streams the lifecycle events in order, with usage in response.completed', async () => {
    const stream = await ctx.client.responses.create({ model: 'gpt-4.1', input: 'hi there', stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(4).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');
    expect(completed.response.usage).toEqual(USAGE);
    const created = events[0];
    if (created?.type !== 'response.created') throw new Error('no response.created');
    expect(created.response).toMatchObject({ status: 'in_progress', usage: null, output: [] });
  });

  it('streams what the SDK stream helper accumulates into the final response', async () => {
    const stream = ctx.client.responses.stream({ model: 'gpt-4.1', input: [{ role: 'user', content: 'hi there' }] });
    let deltas = '';
    stream.on('response.output_text.delta', (event) => {
      deltas += event.delta;
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(deltas);
    expect(final.usage?.output_tokens).toBe(4);
  });

  it('uses event/data pairs and no [DONE]', async () => {
    const res = await fetch(`${ctx.mock.url}/v1/responses`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', input: 'x', stream: true }),
    });
    const frames = (await res.text()).split('\n\n').filter(Boolean);
    expect(frames.every((f) => /^event: response\.[a-z_.]+\ndata: \{/.test(f))).toBe(true);
    expect(frames.some((f) => f.includes('[DONE]'))).toBe(false);
  });
});
