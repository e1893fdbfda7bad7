import type { Kysely } from 'kysely';

/**
 * Leases: which instance runs a background job that must run once per cluster (maintenance, and
 * later partition creation, the reservation sweeper, reconciliation). One row per job; a holder
 * keeps it by renewing before `expires_at` (epoch ms), and anyone may take it once that has passed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull()) // an instance id (see maintenance/lease.ts)
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('acquired_at', 'bigint', (c) => c.notNull()) // when this holder took it
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('leases').execute();
}
