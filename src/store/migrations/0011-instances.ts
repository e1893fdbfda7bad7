import type { Kysely } from 'kysely';

/**
 * The instances registry: one row per running server process, upserted by its heartbeat
 * (src/instances/heartbeat.ts) and deleted on a graceful stop. A row whose `last_seen_at` stopped
 * moving belongs to a process that died without stopping; the maintenance pass deletes it later.
 * Nothing reads this table on the request path.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('instances')
    .addColumn('id', 'text', (c) => c.primaryKey()) // Runtime.instanceId: host:pid:random
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    // The node:cluster worker number when the process is one of several workers; null otherwise.
    .addColumn('worker', 'integer')
    .addColumn('version', 'text', (c) => c.notNull())
    // Where the process listens (its URL as it logs it); null until it listens.
    .addColumn('listen', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('in_flight', 'integer', (c) => c.notNull())
    // 1 once a graceful shutdown began (the row is deleted when it ends).
    .addColumn('draining', 'integer', (c) => c.notNull().defaultTo(0))
    // What the process sees of its dependencies at its last heartbeat: 'ok' or 'failing: …'.
    .addColumn('database_state', 'text', (c) => c.notNull())
    // The Redis limiter as the process sees it ('ok', 'failing'); null without REDIS_URL.
    .addColumn('redis_state', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('instances').execute();
}
