import type { PricingTable } from '../../usage/pricing.js';

/**
 * The usage of one Realtime API response, as `response.done` reports it (`response.usage`), kept
 * by kind. Today's pricing table knows text rates only, so `cost` prices input and output tokens
 * of every kind at the model's text rates; an audio-aware price plugs in there and nowhere else.
 */
export interface RealtimeUsage {
  inputTokens: number;
  outputTokens: number;
  input: { text: number; audio: number; image: number; cached: number };
  /** Cached input tokens by kind (`cached_tokens_details`). */
  cachedByKind: { text: number; audio: number; image: number };
  output: { text: number; audio: number };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/** Reads `response.usage` of a `response.done` event; undefined when it carries none. */
export function readRealtimeUsage(usage: unknown): RealtimeUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const u = usage as Obj;
  const inDetails = obj(u.input_token_details);
  const cached = obj(inDetails.cached_tokens_details);
  const outDetails = obj(u.output_token_details);
  return {
    inputTokens: n(u.input_tokens),
    outputTokens: n(u.output_tokens),
    input: {
      text: n(inDetails.text_tokens),
      audio: n(inDetails.audio_tokens),
      image: n(inDetails.image_tokens),
      cached: n(inDetails.cached_tokens),
    },
    cachedByKind: { text: n(cached.text_tokens), audio: n(cached.audio_tokens), image: n(cached.image_tokens) },
    output: { text: n(outDetails.text_tokens), audio: n(outDetails.audio_tokens) },
  };
}

/**
 * What a response costs in nano-dollars, null for a model without a price. Priced through the
 * pricing table's token counts (input, output, cached input), every kind at the text rates.
 */
export function realtimeCost(pricing: PricingTable, model: string | null, u: RealtimeUsage): number | null {
  return pricing.cost(model, {
    promptTokens: u.inputTokens,
    completionTokens: u.outputTokens,
    cachedTokens: u.input.cached,
    reasoningTokens: 0,
  });
}
