import type { Kysely } from 'kysely';

/**
 * Replayed answers and the response cache.
 * - `usage_records.served_from`: where the client's answer came from. Null: the upstream (every
 *   older record); `'cache'`: the response cache; `'idempotent_replay'`: the stored answer to an
 *   earlier request with the same `Idempotency-Key`.
 * - `projects.cache_ttl_seconds`: how long the project's responses are cached; null: not cached
 *   (unless a request asks with `Cache-Control: max-age`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('usage_records').addColumn('served_from', 'text').execute();
  await db.schema.alterTable('projects').addColumn('cache_ttl_seconds', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('projects').dropColumn('cache_ttl_seconds').execute();
  await db.schema.alterTable('usage_records').dropColumn('served_from').execute();
}
