import type { BilledUnits, PricingTable } from '../../usage/pricing.js';

/**
 * The usage of one Realtime API response, as `response.done` reports it (`response.usage`), kept
 * by kind, so that audio and image tokens are priced at the model's audio and image rates.
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

/** The audio and image tokens of a response as a record's billed units; undefined when all were text. */
export function realtimeUnits(u: RealtimeUsage): BilledUnits | undefined {
  const units: BilledUnits = {};
  if (u.input.audio > 0) units.audio_input_tokens = u.input.audio;
  if (u.cachedByKind.audio > 0) units.cached_audio_input_tokens = u.cachedByKind.audio;
  if (u.input.image > 0) units.image_input_tokens = u.input.image;
  if (u.cachedByKind.image > 0) units.cached_image_input_tokens = u.cachedByKind.image;
  if (u.output.audio > 0) units.audio_output_tokens = u.output.audio;
  for (const _ in units) return units;
  return undefined;
}

/**
 * What a response costs in nano-dollars, null for a model without a price: text, audio and
 * image tokens each at their rates, their cached shares at the cached rates.
 */
export function realtimeCost(pricing: PricingTable, model: string | null, u: RealtimeUsage): number | null {
  return pricing.cost(model, {
    promptTokens: u.inputTokens,
    completionTokens: u.outputTokens,
    cachedTokens: u.input.cached,
    reasoningTokens: 0,
    units: realtimeUnits(u) ?? null,
  });
}
