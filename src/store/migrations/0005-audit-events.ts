import type { Kysely } from 'kysely';

/**
 * The audit trail: one row per event, chained by hash (see src/audit/chain.ts), and the chain's
 * head: the last seq and hash, one row, which every append locks (an UPDATE as the transaction's
 * first statement), so appends from any number of instances form one line.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey()) // UUIDv7
    .addColumn('seq', 'bigint', (c) => c.notNull().unique())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('client_ip', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    // JSON text, hashed exactly as stored.
    .addColumn('changes', 'text')
    .addColumn('details', 'text')
    .addColumn('request_id', 'text')
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_time_idx').on('audit_events').columns(['time']).execute();
  await db.schema
    .createIndex('audit_events_target_idx')
    .on('audit_events')
    .columns(['target_type', 'target_id', 'seq'])
    .execute();
  await db.schema.createIndex('audit_events_action_idx').on('audit_events').columns(['action', 'seq']).execute();

  await db.schema
    .createTable('audit_chain')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await (db as Kysely<{ audit_chain: { id: string; seq: number; hash: string; updated_at: number } }>)
    .insertInto('audit_chain')
    .values({ id: 'main', seq: 0, hash: '', updated_at: 0 })
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_chain').execute();
  await db.schema.dropTable('audit_events').execute();
}
