import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** USD per 1M tokens. USD per 1M tokens is exactly micro-dollars per token, which keeps the maths simple. */
export const modelPriceSchema = z.strictObject({
  input: z.number().min(0),
  cached_input: z.number().min(0).optional(),
  output: z.number().min(0),
  reasoning: z.number().min(0).optional().describe('Only where reasoning tokens are priced apart from output'),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

export const pricingFileSchema = z.object({
  as_of: z.string().optional(),
  models: z.record(z.string(), modelPriceSchema),
  aliases: z.record(z.string(), z.string()).optional(),
});
export type PricingFile = z.infer<typeof pricingFileSchema>;

export interface TokenCounts {
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
}

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
  readonly asOf: string | undefined;

  /** The first file is the shipped table (`built_in`); any later one is an operator file (`file`). */
  constructor(files: PricingFile[]) {
    files.forEach((f, i) => {
      for (const [name, price] of Object.entries(f.models)) {
        this.models.set(name, price);
        this.sources.set(name, i === 0 ? 'built_in' : 'file');
      }
      for (const [alias, target] of Object.entries(f.aliases ?? {})) this.aliases.set(alias, target);
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

  /** Cost in integer nano-dollars, or null when the model's price is unknown. */
  cost(model: string | null | undefined, t: TokenCounts): number | null {
    const entry = this.resolve(model);
    return entry ? costOf(entry.price, t) : null;
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

/**
 * Nano-dollars (1e-9 USD) for one request, rounded once to an integer: cached input at its own
 * rate, the rest of the input at the input rate, output at the output rate (reasoning tokens, part
 * of the output, at the reasoning rate where one is set). Prices are USD per 1M tokens, i.e.
 * micro-dollars per token, so the sum is scaled by 1000 before the one rounding: a request priced
 * at a fraction of a micro-dollar (3 embedding tokens) keeps its cost instead of rounding to 0.
 */
export function costOf(p: ModelPrice, t: TokenCounts): number {
  const prompt = t.promptTokens ?? 0;
  const cached = Math.min(t.cachedTokens ?? 0, prompt);
  const completion = t.completionTokens ?? 0;
  const reasoning = p.reasoning === undefined ? 0 : Math.min(t.reasoningTokens ?? 0, completion);
  const micro =
    (prompt - cached) * p.input +
    cached * (p.cached_input ?? p.input) +
    (completion - reasoning) * p.output +
    reasoning * (p.reasoning ?? p.output);
  return Math.round(micro * 1000);
}
