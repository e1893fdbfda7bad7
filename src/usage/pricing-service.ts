import { errors } from '../errors.js';
import type { Clock } from '../shared/clock.js';
import { toIso } from '../shared/clock.js';
import type { PricingOverrideRow, PricingRepo } from '../store/pricing-repo.js';
import type { ModelPrice, PriceSource, PricingTable } from './pricing.js';

/** One model's price as the management API shows it (USD per 1M tokens). */
export interface PriceView {
  model: string;
  source: PriceSource;
  input: number;
  cached_input: number | null;
  output: number;
  reasoning: number | null;
  /** When an override was last set; null for prices from the pricing files. */
  updated_at: string | null;
}

export interface PricingView {
  /** Date of the newest pricing file in effect (shipped table or PRICING_FILE). */
  as_of: string | null;
  data: PriceView[];
  /** Model names priced as another model. */
  aliases: Record<string, string>;
}

const toPrice = (r: PricingOverrideRow): ModelPrice => ({
  input: r.input,
  output: r.output,
  ...(r.cached_input === null ? {} : { cached_input: r.cached_input }),
  ...(r.reasoning === null ? {} : { reasoning: r.reasoning }),
});

/**
 * Pricing overrides set through the management API: persisted in pricing_overrides and applied to
 * the live pricing table at once, so the next request is priced with them. Other instances
 * sharing the database pick them up at start and on every maintenance pass (`reload`).
 */
export class PricingService {
  private updatedAt = new Map<string, number>();

  constructor(
    private readonly repo: PricingRepo,
    private readonly table: PricingTable,
    private readonly now: Clock,
  ) {}

  /** Reads the overrides from the store into the pricing table; returns how many there are. */
  async reload(): Promise<number> {
    const rows = await this.repo.list();
    this.table.setOverrides(rows.map((r) => [r.model, toPrice(r)]));
    this.updatedAt = new Map(rows.map((r) => [r.model, r.updated_at]));
    return rows.length;
  }

  view(): PricingView {
    return {
      as_of: this.table.asOf ?? null,
      data: this.table.entries().map((e) => this.toView(e.model, e.source, e.price)),
      aliases: this.table.aliasMap(),
    };
  }

  async set(model: string, price: ModelPrice): Promise<PriceView> {
    const row = await this.repo.upsert({
      model,
      input: price.input,
      cached_input: price.cached_input ?? null,
      output: price.output,
      reasoning: price.reasoning ?? null,
      updated_at: this.now(),
    });
    await this.reload();
    return this.toView(row.model, 'override', toPrice(row));
  }

  /** Removes an override; the model falls back to the pricing files (or to no price). */
  async unset(model: string): Promise<void> {
    const removed = await this.repo.delete(model);
    await this.reload();
    if (!removed) throw errors.pricingOverrideNotFound(model);
  }

  private toView(model: string, source: PriceSource, p: ModelPrice): PriceView {
    return {
      model,
      source,
      input: p.input,
      cached_input: p.cached_input ?? null,
      output: p.output,
      reasoning: p.reasoning ?? null,
      updated_at: source === 'override' ? toIso(this.updatedAt.get(model) ?? null) : null,
    };
  }
}
