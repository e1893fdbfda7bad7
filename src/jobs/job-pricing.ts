import type { PricingTable, TokenCounts } from '../usage/pricing.js';

/** What batch lines cost against the same request made live: half (OpenAI's Batch API discount). */
export const BATCH_PRICE_FACTOR = 0.5;

/**
 * A batch line's cost in nano-dollars at the batch price; null when the model has no price. The
 * one place a batch line is priced, so a pricing table that knows service tiers can take it over.
 */
export function batchLineCost(pricing: PricingTable, model: string | null, counts: TokenCounts): number | null {
  const live = pricing.cost(model, counts);
  return live === null ? null : Math.round(live * BATCH_PRICE_FACTOR);
}
