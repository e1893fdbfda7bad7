import type { Kysely } from 'kysely';

/**
 * Retries (proxy/failover.ts): a project may let 5xx answers and timeouts be retried without an
 * Idempotency-Key (`retry_server_errors`, off for every existing project), and a usage record
 * says how many times its request was sent again (0 for older records).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('projects')
    .addColumn('retry_server_errors', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('usage_records')
    .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('usage_records').dropColumn('retries').execute();
  await db.schema.alterTable('projects').dropColumn('retry_server_errors').execute();
}
