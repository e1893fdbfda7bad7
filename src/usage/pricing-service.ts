import { type AuditContext, diff } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { errors } from '../errors.js';
import type { Clock } from '../shared/clock.js';
import { toIso } from '../shared/clock.js';
import type { PricingOverrideRow, PricingRepo } from '../store/pricing-repo.js';
import type { ModelPrice, PriceSource, PricingTable, ToolPrice } from './pricing.js';

/** One model's price as the management API shows it (USD per 1M tokens). */
export interface PriceView {
  model: string;
  source: PriceSource;
  input: number;
  cached_input: number | null;
  output: number;
  reasoning: number | null;
  audio_input: number | null;
  cached_audio_input: number | null;
  audio_output: number | null;
  image_input: number | null;
  cached_image_input: number | null;
  image_output: number | null;
  /** USD per image by size and quality. */
  per_image: Record<string, Record<string, number>> | null;
  /** USD per minute of audio. */
  per_minute: number | null;
  /** USD per 1M characters of speech input. */
  per_1m_characters: number | null;
  /** Token rates of service tiers the model has its own price for. */
  tiers: NonNullable<ModelPrice['tiers']> | null;
  /** When an override was last set; null for prices from the pricing files. */
  updated_at: string | null;
}

export interface PricingView {
  /** Date of the newest pricing file in effect (shipped table or PRICING_FILE). */
  as_of: string | null;
  data: PriceView[];
  /** Model names priced as another model. */
  aliases: Record<string, string>;
  /** Tool fees, USD per 1k calls. */
  tools: Record<string, ToolPrice>;
  /** Service tiers' token rates as a multiple of the standard ones. */
  service_tiers: Record<string, number>;
}

/** The price fields beyond the four columns of pricing_overrides, stored as JSON in its `units` column. */
const EXTRA_FIELDS = [
  'audio_input',
  'cached_audio_input',
  'audio_output',
  'image_input',
  'cached_image_input',
  'image_output',
  'per_image',
  'per_minute',
  'per_1m_characters',
  'tiers',
] as const satisfies ReadonlyArray<keyof ModelPrice>;

function extraOf(price: ModelPrice): string | null {
  const extra: Partial<ModelPrice> = {};
  let any = false;
  for (const k of EXTRA_FIELDS) {
    if (price[k] !== undefined) {
      (extra as Record<string, unknown>)[k] = price[k];
      any = true;
    }
  }
  return any ? JSON.stringify(extra) : null;
}

function parseExtra(units: string | null | undefined): Partial<ModelPrice> {
  if (!units) return {};
  try {
    const v: unknown = JSON.parse(units);
    return v && typeof v === 'object' ? (v as Partial<ModelPrice>) : {};
  } catch {
    return {};
  }
}

/** What an audit event records of an override: the prices (USD per 1M tokens). */
const priceFields = (r: PricingOverrideRow) => ({
  input: r.input,
  cached_input: r.cached_input,
  output: r.output,
  reasoning: r.reasoning,
  ...parseExtra(r.units),
});

const toPrice = (r: PricingOverrideRow): ModelPrice => ({
  ...parseExtra(r.units),
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
      tools: this.table.toolPrices(),
      service_tiers: this.table.serviceTiers(),
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
        units: extraOf(price),
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
      audio_input: p.audio_input ?? null,
      cached_audio_input: p.cached_audio_input ?? null,
      audio_output: p.audio_output ?? null,
      image_input: p.image_input ?? null,
      cached_image_input: p.cached_image_input ?? null,
      image_output: p.image_output ?? null,
      per_image: p.per_image ?? null,
      per_minute: p.per_minute ?? null,
      per_1m_characters: p.per_1m_characters ?? null,
      tiers: p.tiers ?? null,
      updated_at: source === 'override' ? toIso(this.updatedAt.get(model) ?? null) : null,
    };
  }
}
