import { describe, expect, it } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';

const ctx = useMockUpstream();

describe('moderations', () => {
  it('returns one unflagged result per input string', async () => {
    const res = await ctx.client.moderations.create({ model: 'omni-moderation-latest', input: ['a', 'b'] });
    expect(res.id).toMatch(/^modr-/);
    expect(res.results).toHaveLength(2);
    expect(res.results[0]).toMatchObject({ flagged: false, categories: { hate: false, violence: false } });
  });

  it('treats a list of content parts as one input', async () => {
    const res = await ctx.client.moderations.create({
      model: 'omni-moderation-latest',
      input: [{ type: 'text', text: 'hello' }],
    });
    expect(res.results).toHaveLength(1);
  });
});
