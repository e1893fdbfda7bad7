import type { Kysely } from 'kysely';

/** One row per proxied request: what it was, what it cost in tokens, how long it took. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_records')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull())
    // No foreign keys: usage history outlives deleted tokens and projects.
    .addColumn('token_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('is_stream', 'integer', (c) => c.notNull())
    .addColumn('prompt_tokens', 'bigint')
    .addColumn('completion_tokens', 'bigint')
    .addColumn('total_tokens', 'bigint')
    .addColumn('cached_tokens', 'bigint')
    .addColumn('reasoning_tokens', 'bigint')
    .addColumn('finish_reason', 'text')
    .addColumn('upstream_ms', 'double precision')
    .addColumn('ttfb_ms', 'double precision')
    .addColumn('duration_ms', 'double precision', (c) => c.notNull())
    .addColumn('bytes_in', 'bigint', (c) => c.notNull())
    .addColumn('bytes_out', 'bigint', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('usage_created_at_idx').on('usage_records').column('created_at').execute();
  await db.schema.createIndex('usage_token_idx').on('usage_records').columns(['token_id', 'created_at']).execute();
  await db.schema.createIndex('usage_project_idx').on('usage_records').columns(['project_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_records').execute();
}
