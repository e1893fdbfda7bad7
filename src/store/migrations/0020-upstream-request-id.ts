import type { Kysely } from 'kysely';

/**
 * `usage_records.upstream_request_id`: the upstream's own id of what it answered (its
 * `x-request-id`, or `apim-request-id` from Azure OpenAI; a realtime response's id), so a record
 * can be found in the provider's logs and matched against its bill. Null for every older record
 * and where nothing was answered upstream. Only adds a column (docs/operations.md#upgrades).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('usage_records').addColumn('upstream_request_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('usage_records').dropColumn('upstream_request_id').execute();
}
