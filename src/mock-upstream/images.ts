import { optionalCount, readJson, requireString } from './body.js';
import { type Ctx, sendJson } from './http.js';
import { billRequest } from './ledger.js';
import { countTokens, unixSeconds } from './text.js';

// A 1x1 transparent PNG: the smallest valid image.
const TINY_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

// gpt-image-1 output tokens for a 1024x1024 image by quality.
const IMAGE_TOKENS: Readonly<Record<string, number>> = { low: 272, medium: 1056, high: 4160 };

export async function imageGenerations(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const prompt = requireString(body, 'prompt');
  const n = optionalCount(body, 'n', 1, 10);
  const quality = typeof body.quality === 'string' && body.quality in IMAGE_TOKENS ? body.quality : 'medium';
  const model = typeof body.model === 'string' ? body.model : 'dall-e-2';
  // DALL·E is billed per image and answers with the images alone, as OpenAI's does.
  if (model.startsWith('dall-e')) {
    // Billed by the image, at the size and quality asked for.
    const size = typeof body.size === 'string' ? body.size : '1024x1024';
    const dalleQuality = body.quality === 'hd' ? 'hd' : 'standard';
    billRequest(ctx, { model, usage: { images: n, size, quality: dalleQuality } });
    return sendJson(ctx, {
      created: unixSeconds(),
      data: Array.from({ length: n }, () => ({ b64_json: TINY_PNG, revised_prompt: prompt })),
    });
  }
  const textTokens = countTokens(prompt);
  const outputTokens = n * (IMAGE_TOKENS[quality] ?? 0);
  const usage = {
    input_tokens: textTokens,
    input_tokens_details: { image_tokens: 0, text_tokens: textTokens },
    output_tokens: outputTokens,
    output_tokens_details: { image_tokens: outputTokens, text_tokens: 0 },
    total_tokens: textTokens + outputTokens,
  };
  billRequest(ctx, { model, usage });
  sendJson(ctx, {
    created: unixSeconds(),
    background: 'opaque',
    data: Array.from({ length: n }, () => ({ b64_json: TINY_PNG })),
    output_format: 'png',
    quality,
    size: typeof body.size === 'string' ? body.size : '1024x1024',
    usage,
  });
}
