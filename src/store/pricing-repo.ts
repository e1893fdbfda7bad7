import type { Db } from './database.js';
import type { PricingOverridesTable } from './schema.js';

export type PricingOverrideRow = PricingOverridesTable;

/** Model prices set through the management API (USD per 1M tokens), layered over the pricing files. */
export class PricingRepo {
  constructor(private readonly db: Db) {}

  async list(): Promise<PricingOverrideRow[]> {
    return this.db.selectFrom('pricing_overrides').selectAll().orderBy('model').execute();
  }

  async find(model: string): Promise<PricingOverrideRow | undefined> {
    return this.db.selectFrom('pricing_overrides').selectAll().where('model', '=', model).executeTakeFirst();
  }

  /** Inserts or replaces the override of one model. */
  async upsert(row: PricingOverrideRow): Promise<PricingOverrideRow> {
    const { model: _model, ...rest } = row;
    return this.db
      .insertInto('pricing_overrides')
      .values(row)
      .onConflict((oc) => oc.column('model').doUpdateSet(rest))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Removes a model's override; false when it had none. */
  async delete(model: string): Promise<boolean> {
    const res = await this.db.deleteFrom('pricing_overrides').where('model', '=', model).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
