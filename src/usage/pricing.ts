import { readFileSync } from 'node:fs';
import { type CostContext, costOf, type UsageCounts } from './cost.js';
import { type ModelPrice, type PricingFile, pricingFileSchema, type ToolPrice } from './price-schema.js';

export type { BilledUnits, TokenCounts, UsageCounts } from './cost.js';
export { costOf, imagePrice, TOOL_UNITS } from './cost.js';
export type { ModelPrice, PricingFile, ToolPrice } from './price-schema.js';
export { modelPriceSchema, pricingFileSchema } from './price-schema.js';

/** The shipped table: pricing/openai.json at the package root (one level above src/ and dist/). */
const BUILT_IN = new URL('../../pricing/openai.json', import.meta.url);

function readPricingFile(file: string | URL): PricingFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read pricing file ${String(file)}: ${(err as Error).message}`);
  }
  const parsed = pricingFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`pricing file ${String(file)}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

const DATED = /-(\d{4}-\d{2}-\d{2}|\d{4})$/;

/**
 * Model prices: the shipped table, then an operator file (PRICING_FILE), then overrides set
 * through the management API, each layer winning over the one before. Names resolve exactly,
 * through aliases, or by dropping a snapshot date (`gpt-4o-2024-08-06` prices as `gpt-4o`).
 * A model that resolves to nothing has an unknown cost, never a guessed zero.
 */
export class PricingTable {
  private models = new Map<string, ModelPrice>();
  /** Where each model's price (before overrides) came from. */
  private sources = new Map<string, PriceSource>();
  private aliases = new Map<string, string>();
  private overrides = new Map<string, ModelPrice>();
  /** Tool fees and tier multipliers: the later file's entry wins, per tool and per tier. */
  private readonly tools = new Map<string, ToolPrice>();
  private readonly tierMultipliers = new Map<string, number>();
  /** Per resolved model: the tool fees that apply to it (computed once per model, on first use). */
  private toolFees = new Map<string, Record<string, number>>();
  readonly asOf: string | undefined;

  /** The first file is the shipped table (`built_in`); any later one is an operator file (`file`). */
  constructor(files: PricingFile[]) {
    files.forEach((f, i) => {
      for (const [name, price] of Object.entries(f.models)) {
        this.models.set(name, price);
        this.sources.set(name, i === 0 ? 'built_in' : 'file');
      }
      for (const [alias, target] of Object.entries(f.aliases ?? {})) this.aliases.set(alias, target);
      for (const [tool, price] of Object.entries(f.tools ?? {})) this.tools.set(tool, price);
      for (const [tier, m] of Object.entries(f.service_tiers ?? {})) this.tierMultipliers.set(tier, m);
    });
    this.asOf = files.findLast((f) => f.as_of)?.as_of;
  }

  static load(extraFile?: string): PricingTable {
    const files = [readPricingFile(BUILT_IN)];
    if (extraFile) files.push(readPricingFile(extraFile));
    return new PricingTable(files);
  }

  /** Replaces the management API's overrides (called at start and after every change). */
  setOverrides(overrides: Iterable<[string, ModelPrice]>): void {
    this.overrides = new Map(overrides);
  }

  /** The entry a model is priced by, and under which name; undefined when unknown. */
  resolve(model: string | null | undefined): { name: string; price: ModelPrice } | undefined {
    if (!model) return undefined;
    for (const name of candidates(model)) {
      const price = this.overrides.get(name) ?? this.models.get(name);
      if (price) return { name, price };
      const target = this.aliases.get(name);
      const aliased = target && (this.overrides.get(target) ?? this.models.get(target));
      if (target && aliased) return { name: target, price: aliased };
    }
    return undefined;
  }

  /** Cost in integer nano-dollars (costOf), or null when the model's price is unknown. */
  cost(model: string | null | undefined, u: UsageCounts): number | null {
    const entry = this.resolve(model);
    return entry ? costOf(entry.price, u, this.context(entry.name, u)) : null;
  }

  /** What the table adds to a model's price for this usage: tool fees when tools were called, the tier's multiplier. */
  private context(model: string, u: UsageCounts): CostContext | undefined {
    const units = u.units;
    const tier = u.serviceTier;
    if (!units && !tier) return undefined;
    return {
      tools: units ? this.toolFeesOf(model) : undefined,
      tierMultiplier: tier ? this.tierMultipliers.get(tier) : undefined,
    };
  }

  /** USD per 1k calls of each tool for a model: its own entry, else the longest family prefix, else the tool's default. */
  toolFeesOf(model: string): Record<string, number> {
    let fees = this.toolFees.get(model);
    if (fees) return fees;
    fees = {};
    for (const [tool, price] of this.tools) {
      let fee = price.per_1k_calls;
      let matched = -1;
      for (const [name, perModel] of Object.entries(price.models ?? {})) {
        const fits = name === model || model.startsWith(`${name}-`);
        if (fits && name.length > matched) {
          matched = name === model ? Number.MAX_SAFE_INTEGER : name.length;
          fee = perModel;
        }
      }
      fees[tool] = fee;
    }
    this.toolFees.set(model, fees);
    return fees;
  }

  /** Tool fees as the pricing files set them. */
  toolPrices(): Record<string, ToolPrice> {
    return Object.fromEntries([...this.tools].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Service tiers' multipliers of the standard token rates. */
  serviceTiers(): Record<string, number> {
    return Object.fromEntries([...this.tierMultipliers].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Every price in effect (shipped table, operator file and overrides), for the management API. */
  entries(): Array<{ model: string; source: PriceSource; price: ModelPrice }> {
    const out: Array<{ model: string; source: PriceSource; price: ModelPrice }> = [];
    for (const [model, price] of this.models) {
      if (!this.overrides.has(model)) out.push({ model, source: this.sources.get(model) ?? 'built_in', price });
    }
    for (const [model, price] of this.overrides) out.push({ model, source: 'override', price });
    return out.sort((a, b) => a.model.localeCompare(b.model));
  }

  /** Alias → model it is priced as (from the shipped table and the operator file). */
  aliasMap(): Record<string, string> {
    return Object.fromEntries([...this.aliases].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** Where a price comes from: the shipped table, PRICING_FILE, or the management API. */
export type PriceSource = 'built_in' | 'file' | 'override';

function* candidates(model: string): Generator<string> {
  yield model;
  const undated = model.replace(DATED, '');
  if (undated !== model) yield undated;
}
