import type { Kysely } from 'kysely';

/**
 * HTTP/2 to an upstream, opt-in per key (src/proxy/upstream-pools.ts): 0 for every existing key,
 * so nothing changes until an operator turns it on. Only adds a column (docs/operations.md#upgrades).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('project_keys')
    .addColumn('http2', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('project_keys').dropColumn('http2').execute();
}
