import { type Kysely, sql } from 'kysely';

/**
 * Work that finishes after the request that started it: batches (`POST /v1/batches`) and
 * background responses (`POST /v1/responses` with `background: true`), followed until their usage
 * is recorded (src/jobs/).
 * - `tracked_jobs`: one row per upstream id (`batch_…`, `resp_…`): who started it (token, project,
 *   the upstream key it went out with), where the follower is (`state`: `pending` while it runs
 *   upstream, `recording` once its usage is being written, `done`, or `dropped` when it cannot be
 *   followed any more), the upstream's own status, when to poll next and how often it was polled,
 *   and `deadline_at` (completion window plus margin) past which it is no longer polled.
 *   `recorded_at` is set when recording starts and is the time of every usage record of the job,
 *   so records written again after a crash carry the same key and are skipped by the store.
 * - `usage_records.job_id`: the job a record accounts for; null for an ordinary request. Its index
 *   is partial (only job records enter it), so ordinary requests' inserts do not maintain it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tracked_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // 'batch' or 'response'.
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('token_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('upstream_key_id', 'text')
    // The batch's endpoint (its lines' path), or '/v1/responses'.
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('upstream_status', 'text', (c) => c.notNull())
    .addColumn('next_poll_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deadline_at', 'bigint', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint')
    // Usage records written for it, and their cost (nano-dollars), once done.
    .addColumn('records', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_nano_usd', 'bigint', (c) => c.notNull().defaultTo(0))
    // Why it was dropped, or the last poll's failure.
    .addColumn('error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The follower's one query: the due jobs of a state.
  await db.schema.createIndex('tracked_jobs_due').on('tracked_jobs').columns(['state', 'next_poll_at']).execute();
  await db.schema.createIndex('tracked_jobs_project').on('tracked_jobs').column('project_id').execute();
  await db.schema.alterTable('usage_records').addColumn('job_id', 'text').execute();
  // The usage API's `job_id` filter: a job's records, newest first.
  await db.schema
    .createIndex('usage_job_idx')
    .on('usage_records')
    .columns(['job_id', 'created_at'])
    .where(sql.ref('job_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('usage_job_idx').execute();
  await db.schema.alterTable('usage_records').dropColumn('job_id').execute();
  await db.schema.dropTable('tracked_jobs').execute();
}
