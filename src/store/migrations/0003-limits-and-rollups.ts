import type { Kysely } from 'kysely';

/** Limits on tokens and projects, cost on usage records, hourly rollups, pricing overrides. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['tokens', 'projects']) {
    // SQLite adds one column per ALTER TABLE statement.
    await db.schema.alterTable(table).addColumn('requests_per_minute', 'bigint').execute();
    await db.schema.alterTable(table).addColumn('tokens_per_minute', 'bigint').execute();
    await db.schema.alterTable(table).addColumn('budget_micro_usd', 'bigint').execute();
    await db.schema
      .alterTable(table)
      .addColumn('budget_period', 'text', (c) => c.notNull().defaultTo('total'))
      .execute();
    // JSON arrays of globs; null means "no restriction".
    await db.schema.alterTable(table).addColumn('allowed_models', 'text').execute();
    await db.schema.alterTable(table).addColumn('allowed_endpoints', 'text').execute();
  }
  await db.schema.alterTable('projects').addColumn('max_requests', 'bigint').execute();
  await db.schema
    .alterTable('projects')
    .addColumn('request_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema.alterTable('usage_records').addColumn('cost_micro_usd', 'bigint').execute();
  await db.schema
    .alterTable('usage_records')
    .addColumn('usage_status', 'text', (c) => c.notNull().defaultTo('missing'))
    .execute();

  // One row per hour, token and model; maintained by the usage writer in the batch transaction.
  await db.schema
    .createTable('usage_rollups')
    .addColumn('bucket_start', 'bigint', (c) => c.notNull())
    .addColumn('token_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull()) // '' when the request had no model
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addColumn('errors', 'bigint', (c) => c.notNull())
    .addColumn('prompt_tokens', 'bigint', (c) => c.notNull())
    .addColumn('completion_tokens', 'bigint', (c) => c.notNull())
    .addColumn('total_tokens', 'bigint', (c) => c.notNull())
    .addColumn('cached_tokens', 'bigint', (c) => c.notNull())
    .addColumn('reasoning_tokens', 'bigint', (c) => c.notNull())
    .addColumn('cost_micro_usd', 'bigint', (c) => c.notNull())
    .addColumn('unpriced_requests', 'bigint', (c) => c.notNull())
    .addColumn('estimated_requests', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms_sum', 'double precision', (c) => c.notNull())
    .addColumn('bytes_in', 'bigint', (c) => c.notNull())
    .addColumn('bytes_out', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_rollups_pk', ['bucket_start', 'token_id', 'model'])
    .execute();
  await db.schema
    .createIndex('usage_rollups_project_idx')
    .on('usage_rollups')
    .columns(['project_id', 'bucket_start'])
    .execute();
  await db.schema
    .createIndex('usage_rollups_token_idx')
    .on('usage_rollups')
    .columns(['token_id', 'bucket_start'])
    .execute();

  // Latency histogram per hour, token and model: counts per duration bucket, mergeable by summing.
  await db.schema
    .createTable('usage_latency_rollups')
    .addColumn('bucket_start', 'bigint', (c) => c.notNull())
    .addColumn('token_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('le', 'integer', (c) => c.notNull()) // index into LATENCY_BUCKETS_MS
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_latency_rollups_pk', ['bucket_start', 'token_id', 'model', 'le'])
    .execute();
  await db.schema
    .createIndex('usage_latency_project_idx')
    .on('usage_latency_rollups')
    .columns(['project_id', 'bucket_start'])
    .execute();

  await db.schema
    .createTable('pricing_overrides')
    .addColumn('model', 'text', (c) => c.primaryKey())
    .addColumn('input', 'double precision', (c) => c.notNull())
    .addColumn('cached_input', 'double precision')
    .addColumn('output', 'double precision', (c) => c.notNull())
    .addColumn('reasoning', 'double precision')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pricing_overrides').execute();
  await db.schema.dropTable('usage_latency_rollups').execute();
  await db.schema.dropTable('usage_rollups').execute();
}
