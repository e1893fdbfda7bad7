import type { Kysely } from 'kysely';

/**
 * Prices for every billed unit (usage/cost.ts).
 * - `usage_records.service_tier`: the tier the upstream served the request in (`default`, `flex`,
 *   `priority`…); null for older records and responses that report none.
 * - `usage_records.billed_units`: JSON of what the request was billed by besides text tokens
 *   (images with size and quality, seconds, characters, tool calls, audio and image tokens); null
 *   when nothing.
 * - `pricing_overrides.units`: JSON of an override's price fields beyond the four columns (audio and
 *   image rates, per-image, per-minute and per-character prices, tier prices); null for older rows.
 * Only adds nullable columns (docs/operations.md#upgrades); the same statements on both dialects
 * (on PostgreSQL the partitioned usage_records passes them to every partition).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('usage_records').addColumn('service_tier', 'text').execute();
  await db.schema.alterTable('usage_records').addColumn('billed_units', 'text').execute();
  await db.schema.alterTable('pricing_overrides').addColumn('units', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('pricing_overrides').dropColumn('units').execute();
  await db.schema.alterTable('usage_records').dropColumn('billed_units').execute();
  await db.schema.alterTable('usage_records').dropColumn('service_tier').execute();
}
