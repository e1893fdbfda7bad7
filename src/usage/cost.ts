import type { ModelPrice, PerImage, TierPrice } from './price-schema.js';

export interface TokenCounts {
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
}

/**
 * What a request was billed by besides text tokens: the non-token units (images with their size
 * and quality, seconds of audio, characters of speech, tool calls) and the input and output tokens
 * that were audio or image. Stored as a record's `billed_units` (a small JSON object, keys absent
 * when zero).
 */
export interface BilledUnits {
  images?: number;
  size?: string;
  quality?: string;
  seconds?: number;
  characters?: number;
  web_search?: number;
  file_search?: number;
  code_interpreter?: number;
  audio_input_tokens?: number;
  cached_audio_input_tokens?: number;
  audio_output_tokens?: number;
  image_input_tokens?: number;
  cached_image_input_tokens?: number;
  image_output_tokens?: number;
}

/** The tool calls a pricing file can charge for, as they are named in `billed_units` and its `tools` section. */
export const TOOL_UNITS = ['web_search', 'file_search', 'code_interpreter'] as const;

/** Token counts, the tier that served them and any other billed units. */
export interface UsageCounts extends TokenCounts {
  /** `service_tier` of the response (`default`, `flex`, `priority`…), or `batch` for the Batch API. */
  serviceTier?: string | null;
  units?: BilledUnits | null;
}

/** What a table adds to a model's own price: tool fees (USD per 1k calls) and tier multipliers. */
export interface CostContext {
  tools?: Readonly<Record<string, number>>;
  /** Multiplier of the standard token rates for `serviceTier`, where the model has no rates of its own for it. */
  tierMultiplier?: number;
}

/** Nano-dollars (1e-9 USD) in one micro-dollar: token rates are micro-dollars per token. */
const NANO_PER_MICRO = 1000;
const MICRO_PER_USD = 1_000_000;

/** A token rate in the tier that served the request: the tier's own rate, else the standard one times the multiplier. */
function rate(std: number, own: number | undefined, multiplier: number): number {
  return own ?? std * multiplier;
}

/**
 * Nano-dollars for one request, rounded once to an integer. Prices are USD per 1M tokens
 * (micro-dollars per token), so the sum is taken in micro-dollars and multiplied by 1000 before
 * the rounding.
 *
 * Tokens: input split into text, audio and image, each with its cached share at the cached rate;
 * output split the same way, reasoning tokens (part of the text output) at the reasoning rate
 * where one is set. Audio and image rates fall back to the text rates. A service tier uses the
 * model's own rates for it (`tiers`) or the standard ones times `ctx.tierMultiplier`.
 *
 * Other units, for responses that report no tokens: images at `per_image` (by size and quality),
 * seconds at `per_minute`, characters at `per_1m_characters`. Tool calls at the table's fees, always.
 */
export function costOf(p: ModelPrice, u: UsageCounts, ctx?: CostContext): number {
  const units = u.units;
  const tier: TierPrice | undefined = u.serviceTier ? p.tiers?.[u.serviceTier] : undefined;
  const m = tier ? 1 : (ctx?.tierMultiplier ?? 1);
  const input = rate(p.input, tier?.input, m);
  const output = rate(p.output, tier?.output, m);
  const cachedInput = rate(p.cached_input ?? p.input, tier?.cached_input ?? tier?.input, m);
  const prompt = u.promptTokens ?? 0;
  const completion = u.completionTokens ?? 0;
  let micro = 0;
  if (prompt > 0 || completion > 0) {
    const audioIn = Math.min(units?.audio_input_tokens ?? 0, prompt);
    const imageIn = Math.min(units?.image_input_tokens ?? 0, prompt - audioIn);
    const textIn = prompt - audioIn - imageIn;
    const cachedAudio = Math.min(units?.cached_audio_input_tokens ?? 0, audioIn);
    const cachedImage = Math.min(units?.cached_image_input_tokens ?? 0, imageIn);
    const cachedText = Math.min(Math.max((u.cachedTokens ?? 0) - cachedAudio - cachedImage, 0), textIn);
    const audioOut = Math.min(units?.audio_output_tokens ?? 0, completion);
    const imageOut = Math.min(units?.image_output_tokens ?? 0, completion - audioOut);
    const textOut = completion - audioOut - imageOut;
    const reasoningRate = tier?.reasoning ?? (p.reasoning === undefined ? undefined : p.reasoning * m);
    const reasoning = reasoningRate === undefined ? 0 : Math.min(u.reasoningTokens ?? 0, textOut);
    micro += (textIn - cachedText) * input + cachedText * cachedInput;
    if (audioIn > 0) {
      const audio = rate(p.audio_input ?? p.input, tier?.audio_input, m);
      const cached = rate(p.cached_audio_input ?? p.audio_input ?? p.input, tier?.cached_audio_input, m);
      micro += (audioIn - cachedAudio) * audio + cachedAudio * cached;
    }
    if (imageIn > 0) {
      const image = rate(p.image_input ?? p.input, tier?.image_input, m);
      const cached = rate(p.cached_image_input ?? p.image_input ?? p.input, tier?.cached_image_input, m);
      micro += (imageIn - cachedImage) * image + cachedImage * cached;
    }
    micro += (textOut - reasoning) * output + reasoning * (reasoningRate ?? output);
    if (audioOut > 0) micro += audioOut * rate(p.audio_output ?? p.output, tier?.audio_output, m);
    if (imageOut > 0) micro += imageOut * rate(p.image_output ?? p.output, tier?.image_output, m);
  }
  if (units) {
    const tokensReported = u.promptTokens !== null || u.completionTokens !== null;
    if (!tokensReported) {
      if (units.images && p.per_image)
        micro += units.images * imagePrice(p.per_image, units.size, units.quality) * MICRO_PER_USD;
      if (units.seconds && p.per_minute !== undefined) micro += (units.seconds * p.per_minute * MICRO_PER_USD) / 60;
      if (units.characters && p.per_1m_characters !== undefined) micro += units.characters * p.per_1m_characters;
    }
    const tools = ctx?.tools;
    if (tools) {
      for (const tool of TOOL_UNITS) {
        const calls = units[tool];
        // USD per 1k calls is a thousand micro-dollars per call.
        if (calls) micro += calls * (tools[tool] ?? 0) * 1000;
      }
    }
  }
  return Math.round(micro * NANO_PER_MICRO);
}

/** Quality assumed when a request names none: DALL·E's default. (gpt-image's default, `auto`, takes the dearest.) */
const DEFAULT_QUALITY = 'standard';
const DEFAULT_SIZE = '1024x1024';

/**
 * USD for one image: the size's price at the quality. An unnamed size is 1024x1024 (OpenAI's
 * default); an unnamed quality is `standard` where the size lists it. A size or quality the table does
 * not list (`auto`, a new size) takes the dearest price that could apply, so a reservation is an
 * upper bound and a charge never falls short.
 */
export function imagePrice(table: PerImage, size: string | undefined, quality: string | undefined): number {
  const bySize = table[size ?? DEFAULT_SIZE];
  const sizes = bySize ? [bySize] : Object.values(table);
  let best = 0;
  for (const qualities of sizes) {
    const exact = qualities[quality ?? DEFAULT_QUALITY];
    const price = exact ?? Math.max(0, ...Object.values(qualities));
    if (price > best) best = price;
  }
  return best;
}
