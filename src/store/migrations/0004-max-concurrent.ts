import type { Kysely } from 'kysely';

/** Concurrency caps on tokens and projects: requests in flight at once; null for none. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['tokens', 'projects']) {
    await db.schema.alterTable(table).addColumn('max_concurrent', 'bigint').execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['tokens', 'projects']) {
    await db.schema.alterTable(table).dropColumn('max_concurrent').execute();
  }
}
