import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * The change log: one row per management write that alters what a token is admitted with (see
 * src/store/changes-repo.ts). Every instance reads the rows after the last seq it applied and
 * drops the tokens they name from its cache. `seq` is never reused (an identity column; SQLite's
 * AUTOINCREMENT), so a reader's watermark only moves forward.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('changes')
    .addColumn('seq', postgres ? 'bigint' : 'integer', (c) =>
      postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    // 'token', 'project' or 'all'.
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('token_id', 'text')
    .addColumn('project_id', 'text')
    // Wall time of the write (epoch ms): what the lag metric measures from, and what pruning goes by.
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('changes_at_idx').on('changes').columns(['at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('changes').execute();
}
