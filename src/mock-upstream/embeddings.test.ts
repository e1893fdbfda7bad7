import { describe, expect, it } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';

const ctx = useMockUpstream();

const norm = (v: readonly number[]) => Math.hypot(...v);

describe('embeddings', () => {
  it('returns deterministic unit vectors of the model size as floats', async () => {
    const res = await ctx.client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta', 'alpha'],
      encoding_format: 'float',
    });
    expect(res).toMatchObject({ object: 'list', model: 'text-embedding-3-small' });
    // ceil(chars / 4) per input: 2 + 1 + 2.
    expect(res.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    const [a, b, a2] = res.data.map((d) => d.embedding);
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(a).toHaveLength(1536);
    expect(norm(a ?? [])).toBeCloseTo(1, 5);
    expect(a2).toEqual(a);
    expect(b).not.toEqual(a);
  });

  it('encodes base64 as little-endian float32 matching the float answer', async () => {
    const request = { model: 'text-embedding-3-small', input: 'alpha', dimensions: 64 };
    const floats = await ctx.client.embeddings.create({ ...request, encoding_format: 'float' });
    const base64 = await ctx.client.embeddings.create({ ...request, encoding_format: 'base64' });
    const raw = Buffer.from(base64.data[0]?.embedding as unknown as string, 'base64');
    expect(raw).toHaveLength(64 * 4);
    const decoded = Array.from({ length: 64 }, (_, i) => raw.readFloatLE(i * 4));
    expect(decoded).toEqual(floats.data[0]?.embedding);
    // Without encoding_format the SDK asks for base64 and decodes it itself.
    const sdkDefault = await ctx.client.embeddings.create(request);
    expect(Array.from(sdkDefault.data[0]?.embedding ?? [])).toEqual(floats.data[0]?.embedding);
  });

  it('accepts token arrays and gives unknown models small vectors', async () => {
    const single = await ctx.client.embeddings.create({ model: 'custom', input: [1, 2, 3], encoding_format: 'float' });
    expect(single.data).toHaveLength(1);
    expect(single.data[0]?.embedding).toHaveLength(8);
    expect(single.usage.prompt_tokens).toBe(3);
    const many = await ctx.client.embeddings.create({
      model: 'custom',
      input: [[1, 2], [3]],
      encoding_format: 'float',
    });
    expect(many.data).toHaveLength(2);
  });

  it('rejects an invalid input', async () => {
    await expect(ctx.client.embeddings.create({ model: 'custom', input: [] })).rejects.toMatchObject({
      status: 400,
      param: 'input',
    });
  });
});
