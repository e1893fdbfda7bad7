import type { PricingTable, UsageCounts } from '../usage/pricing.js';

/**
 * A batch line's cost in nano-dollars at the batch price; null when the model has no price. Priced
 * as the `batch` service tier: the model's own batch rates where the table has them, else its
 * standard rates times the table's `service_tiers.batch` (0.5, the Batch API's discount).
 */
export function batchLineCost(pricing: PricingTable, model: string | null, counts: UsageCounts): number | null {
  return pricing.cost(model, { ...counts, serviceTier: 'batch' });
}
