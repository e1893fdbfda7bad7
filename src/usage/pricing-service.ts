import { type AuditContext, diff } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
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

/** What an audit event records of an override: the prices (USD per 1M tokens). */
const priceFields = (r: PricingOverrideRow) => ({
  input: r.input,
  cached_input: r.cached_input,
  output: r.output,
  reasoning: r.reasoning,
});

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
    private readonly audit: AuditTrail,
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

  async set(model: string, price: ModelPrice, ctx: AuditContext): Promise<PriceView> {
    const row = await this.audit.change(ctx, async (tx) => {
      const before = await tx.repos.pricing.find(model);
      const row = await tx.repos.pricing.upsert({
        model,
        input: price.input,
        cached_input: price.cached_input ?? null,
        output: price.output,
        reasoning: price.reasoning ?? null,
        updated_at: this.now(),
      });
      const changes = before ? diff(priceFields(before), priceFields(row)) : { before: null, after: priceFields(row) };
      if (changes) tx.record({ action: 'pricing.set', target: { type: 'model', id: model }, changes });
      return row;
    });
    await this.reload();
    return this.toView(row.model, 'override', toPrice(row));
  }

  /** Removes an override; the model falls back to the pricing files (or to no price). */
  async unset(model: string, ctx: AuditContext): Promise<void> {
    try {
      await this.audit.change(ctx, async (tx) => {
        const before = await tx.repos.pricing.find(model);
        if (!before || !(await tx.repos.pricing.delete(model))) throw errors.pricingOverrideNotFound(model);
        tx.record({
          action: 'pricing.unset',
          target: { type: 'model', id: model },
          changes: { before: priceFields(before), after: null },
        });
      });
    } finally {
      // Also when this instance had it and the store no longer does (another instance removed it).
      await this.reload();
    }
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
