import { z } from 'zod';

/**
 * The pricing file's shapes. Token rates are USD per 1M tokens, which is exactly micro-dollars per
 * token; the other units say their own unit in their name. Every field added since the first
 * format is optional, so older files still load.
 */
const usd = z.number().min(0);

/** Token rates, USD per 1M tokens. Audio and image rates default to the text rates when absent. */
const tokenRates = {
  cached_input: usd.optional(),
  reasoning: usd.optional().describe('Only where reasoning tokens are priced apart from output'),
  audio_input: usd.optional(),
  cached_audio_input: usd.optional(),
  audio_output: usd.optional(),
  image_input: usd.optional(),
  cached_image_input: usd.optional(),
  image_output: usd.optional(),
};

/** USD per image by size (`1024x1024`) and quality (`standard`, `hd`, `low`, `medium`, `high`). */
export const perImageSchema = z.record(z.string().min(1), z.record(z.string().min(1), usd));
export type PerImage = z.infer<typeof perImageSchema>;

/** A service tier's own token rates for a model (`priority` where OpenAI lists one); absent rates follow the table's multiplier. */
export const tierPriceSchema = z.strictObject({ input: usd.optional(), output: usd.optional(), ...tokenRates });
export type TierPrice = z.infer<typeof tierPriceSchema>;

export const modelPriceSchema = z.strictObject({
  /** 0 for a model billed by other units (images, minutes, characters). */
  input: usd,
  output: usd,
  ...tokenRates,
  per_image: perImageSchema.optional(),
  /** USD per minute of audio (transcription, translation), when the response reports no tokens. */
  per_minute: usd.optional(),
  /** USD per 1M characters of speech input, when the response reports no tokens. */
  per_1m_characters: usd.optional(),
  tiers: z.record(z.string().min(1), tierPriceSchema).optional(),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

/** A tool's fee: USD per 1k calls, by model (a name or a family prefix such as `gpt-4o`) or for every model. */
export const toolPriceSchema = z.strictObject({
  per_1k_calls: usd,
  models: z.record(z.string().min(1), usd).optional(),
});
export type ToolPrice = z.infer<typeof toolPriceSchema>;

export const pricingFileSchema = z.object({
  as_of: z.string().optional(),
  models: z.record(z.string(), modelPriceSchema),
  aliases: z.record(z.string(), z.string()).optional(),
  /** Tool fees (`web_search`, `file_search`, `code_interpreter`), charged per call on top of tokens. */
  tools: z.record(z.string().min(1), toolPriceSchema).optional(),
  /** Token rates of a service tier as a multiple of the standard ones (`flex`, `batch`: 0.5). */
  service_tiers: z.record(z.string().min(1), z.number().min(0)).optional(),
});
export type PricingFile = z.infer<typeof pricingFileSchema>;
