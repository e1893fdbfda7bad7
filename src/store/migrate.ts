import type { Kysely } from 'kysely';
import { DEFAULT_MIGRATION_TABLE, type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';
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
import * as m0012 from './migrations/0012-project-keys.js';
import * as m0013 from './migrations/0013-retries.js';
import * as m0014 from './migrations/0014-cache.js';
import * as m0015 from './migrations/0015-idempotency-keys.js';
import * as m0016 from './migrations/0016-key-http2.js';
import * as m0017 from './migrations/0017-nano-usd.js';
import * as m0018 from './migrations/0018-billed-units.js';
import * as m0019 from './migrations/0019-tracked-jobs.js';
import * as m0020 from './migrations/0020-upstream-request-id.js';

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
  '0012-project-keys': m0012,
  '0013-retries': m0013,
  '0014-cache': m0014,
  '0015-idempotency-keys': m0015,
  '0016-key-http2': m0016,
  '0018-billed-units': m0018,
  '0017-nano-usd': m0017,
  '0019-tracked-jobs': m0019,
  '0020-upstream-request-id': m0020,
};

// biome-ignore lint/suspicious/noExplicitAny: migrations run on a database of any schema
type AnyDb = Kysely<any>;

/** The migrations this version knows, in the order they run. */
export const KNOWN_MIGRATIONS: readonly string[] = Object.keys(migrations).sort();

/**
 * How a database's executed migrations (`kysely_migration` names) stand against this version's:
 * `pending` are ours not yet run; `newer` were run by a later version (named after our last one);
 * `foreign` are unknown names that sort before our last one (another build, not an upgrade).
 */
export interface MigrationState {
  pending: string[];
  newer: string[];
  foreign: string[];
}

export function migrationState(executed: readonly string[]): MigrationState {
  const ran = new Set(executed);
  const known = new Set(KNOWN_MIGRATIONS);
  const last = KNOWN_MIGRATIONS.at(-1) ?? '';
  const unknown = [...ran].filter((n) => !known.has(n)).sort();
  return {
    pending: KNOWN_MIGRATIONS.filter((n) => !ran.has(n)),
    newer: unknown.filter((n) => n > last),
    foreign: unknown.filter((n) => n <= last),
  };
}

/** The names in `kysely_migration`, empty for a database never migrated. */
export async function executedMigrations(db: AnyDb): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === DEFAULT_MIGRATION_TABLE)) return [];
  const rows = await db.selectFrom(DEFAULT_MIGRATION_TABLE).select('name').execute();
  return rows.map((r: { name: string }) => r.name);
}

export interface MigrateOptions {
  /**
   * For `serve`: a database already migrated by a newer version is served as it is, since
   * migrations only add (docs/operations.md#upgrades); called with the newer migrations' names.
   * Without it (`llm-proxy migrate`) such a database is refused.
   */
  onNewer?: (names: string[]) => void;
}

function migrator(db: AnyDb): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/**
 * Kysely's migrator refuses a database with migrations it was not given ("corrupted migrations").
 * Resolves true when the database is ahead of this version (and that is tolerated): nothing to run.
 */
async function aheadOfUs(db: AnyDb, opts: MigrateOptions): Promise<boolean> {
  const state = migrationState(await executedMigrations(db));
  if (state.foreign.length > 0) {
    throw new Error(
      `the database has migrations this version does not know (${state.foreign.join(', ')}) that are not newer ` +
        `than its own (last: ${KNOWN_MIGRATIONS.at(-1)}): it was migrated by a different build of llm-proxy`,
    );
  }
  if (state.newer.length === 0) return false;
  const by = `the database was migrated by a newer version of llm-proxy (${state.newer.join(', ')})`;
  if (state.pending.length > 0) {
    throw new Error(
      `${by}, but lacks this version's ${state.pending.join(', ')}: run "llm-proxy migrate" of that version`,
    );
  }
  if (!opts.onNewer)
    throw new Error(`${by}; this version cannot migrate it: run the newer version's "llm-proxy migrate"`);
  opts.onNewer(state.newer);
  return true;
}

/** Applies every pending migration; throws with the failing migration's name on error. */
export async function migrateToLatest(db: AnyDb, opts: MigrateOptions = {}): Promise<string[]> {
  if (await aheadOfUs(db, opts)) return [];
  return applied(await migrator(db).migrateToLatest());
}

/**
 * Applies the pending migrations up to and including `name`, no further: a database as an older
 * version left it (the tests of a migration fill it with rows from before, then migrate to the latest).
 */
export async function migrateTo(db: AnyDb, name: string): Promise<string[]> {
  return applied(await migrator(db).migrateTo(name));
}

export async function pendingMigrations(db: AnyDb, opts: MigrateOptions = {}): Promise<string[]> {
  if (await aheadOfUs(db, opts)) return [];
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
