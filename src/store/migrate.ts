import type { Kysely } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-usage-records.js';
import * as m0003 from './migrations/0003-limits-and-rollups.js';
import * as m0004 from './migrations/0004-max-concurrent.js';
import * as m0005 from './migrations/0005-audit-events.js';
import * as m0006 from './migrations/0006-admin-access.js';
import * as m0007 from './migrations/0007-changes.js';
import * as m0008 from './migrations/0008-usage-partitions.js';
import * as m0009 from './migrations/0009-leases.js';
import * as m0010 from './migrations/0010-limit-counters.js';
import * as m0011 from './migrations/0011-instances.js';

/** Migrations are imported statically so the built package needs no file-system discovery. */
const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-usage-records': m0002,
  '0003-limits-and-rollups': m0003,
  '0004-max-concurrent': m0004,
  '0005-audit-events': m0005,
  '0006-admin-access': m0006,
  '0007-changes': m0007,
  '0008-usage-partitions': m0008,
  '0009-leases': m0009,
  '0010-limit-counters': m0010,
  '0011-instances': m0011,
};

// biome-ignore lint/suspicious/noExplicitAny: migrations run on a database of any schema
type AnyDb = Kysely<any>;

function migrator(db: AnyDb): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/** Applies every pending migration; throws with the failing migration's name on error. */
export async function migrateToLatest(db: AnyDb): Promise<string[]> {
  return applied(await migrator(db).migrateToLatest());
}

export async function pendingMigrations(db: AnyDb): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

function applied({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
