import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from './index.js';

let mock: MockUpstream;
let client: OpenAI;

beforeAll(async () => {
  mock = await startMockUpstream();
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => mock.close());

describe('moderations', () => {
  it('returns one unflagged result per input string', async () => {
    const res = await client.moderations.create({ model: 'omni-moderation-latest', input: ['a', 'b'] });
    expect(res.id).toMatch(/^modr-/);
    expect(res.results).toHaveLength(2);
    expect(res.results[0]).toMatchObject({ flagged: false, categories: { hate: false, violence: false } });
  });

  it('treats a list of content parts as one input', async () => {
    const res = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: [{ type: 'text', text: 'hello' }],
    });
    expect(res.results).toHaveLength(1);
  });
});
