import { describe, expect, it } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';

const ctx = useMockUpstream();

describe('image generations', () => {
  it('returns n base64 PNGs with gpt-image-1 style usage', async () => {
    const res = await ctx.client.images.generate({ model: 'gpt-image-1', prompt: 'a red fox', n: 2, quality: 'low' });
    expect(res.data).toHaveLength(2);
    const png = Buffer.from(res.data?.[0]?.b64_json ?? '', 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(res.usage).toEqual({
      input_tokens: 3,
      input_tokens_details: { image_tokens: 0, text_tokens: 3 },
      output_tokens: 2 * 272,
      output_tokens_details: { image_tokens: 2 * 272, text_tokens: 0 },
      total_tokens: 3 + 2 * 272,
    });
  });

  it('answers DALL·E with the images alone, as OpenAI does (no usage: billed per image)', async () => {
    const res = await ctx.client.images.generate({ model: 'dall-e-3', prompt: 'a red fox', n: 2, quality: 'hd' });
    expect(res.data).toHaveLength(2);
    expect(res.usage).toBeUndefined();
    expect(res.data?.[0]?.revised_prompt).toBe('a red fox');
  });
});
