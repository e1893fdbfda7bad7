import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Idempotency keys (src/store/idempotency-keys-repo.ts): a request carrying `Idempotency-Key`
 * runs once per project and key within a window. One row per (project, key): the request's
 * fingerprint, `in_flight` while the first request runs (held by `owner` until `lease_expires_at`,
 * renewed while it runs, so a dead instance's claim lapses) or `done` with the response the client
 * received (null with `not_kept` when it was larger than IDEMPOTENCY_MAX_RESPONSE_BYTES). `expires_at` ends
 * the window; the maintenance pass deletes rows past it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    // As the client sent it (printable ASCII, at most 255 characters).
    .addColumn('key', 'text', (c) => c.notNull())
    // Hex SHA-256 of method, path and body.
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    // 'in_flight' or 'done'.
    .addColumn('state', 'text', (c) => c.notNull())
    // The instance running the first request, and that request's id (in_flight only).
    .addColumn('owner', 'text')
    .addColumn('request_id', 'text')
    .addColumn('lease_expires_at', 'bigint')
    // The stored response (proxy/replay.ts's serialised form), when done and kept.
    .addColumn('response', postgres ? 'bytea' : 'blob')
    .addColumn('not_kept', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['project_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_expires_at').on('idempotency_keys').column('expires_at').execute();
  // The lease renewal finds an instance's claims in flight.
  await db.schema.createIndex('idempotency_keys_owner').on('idempotency_keys').column('owner').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
}
