import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';

/** The tables whose row counts `backup` and `restore` print, in this order (those present). */
const COUNTED = ['projects', 'tokens', 'usage_records', 'audit_events', 'admin_users', 'pricing_overrides'];
const MIGRATIONS_TABLE = 'kysely_migration';
const HEADER = 'SQLite format 3\0';

/** What a database file holds, as backup and restore report and check it. */
export interface SqliteFacts {
  bytes: number;
  /** Executed migrations (`kysely_migration`), by name. */
  migrations: string[];
  /** Row counts of the tables in COUNTED that exist. */
  counts: Array<[table: string, rows: number]>;
  /** Every project's stored (encrypted) upstream key. */
  projectKeys: Array<{ id: string; name: string; encrypted: string }>;
}

/** A path beside `file`, in the same folder (so a rename is atomic), that no one else uses. */
export function siblingTemp(file: string, label: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${label}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/** Whether `file` starts with SQLite's header (an empty or missing file does not). */
export function isSqliteFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(HEADER.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.toString('latin1') === HEADER;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A consistent copy of the database at `source`, taken while servers keep writing to it:
 * `VACUUM INTO` reads one snapshot in one read transaction, which under WAL blocks no writer (a
 * chunked `sqlite3_backup` would restart whenever another process writes). The copy is written
 * beside `target`, synced, made 0600, and only then given its name: `target` never holds a partial
 * file. Without `overwrite` an existing `target` is kept (EEXIST), even one created meanwhile.
 */
export function snapshotSqlite(source: string, target: string, overwrite: boolean): void {
  const temp = siblingTemp(target, 'backup');
  const db = new SQLite(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(temp);
  } finally {
    db.close();
  }
  try {
    chmodSync(temp, 0o600);
    syncFile(temp);
    if (overwrite) renameSync(temp, target);
    else {
      // link fails if `target` exists: no overwrite, whatever appeared since the caller looked.
      linkSync(temp, target);
      unlinkSync(temp);
    }
    syncFile(path.dirname(target));
  } finally {
    if (existsSync(temp)) unlinkSync(temp);
  }
}

/**
 * What the database file holds. Throws a plain Error whose message says why when it is not an
 * llm-proxy database. With `integrity`, a failed `PRAGMA integrity_check` throws too.
 */
export function readFacts(file: string, opts: { integrity: boolean }): SqliteFacts {
  const db = new SQLite(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    if (opts.integrity) {
      const problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map(
        (r) => r.integrity_check,
      );
      if (problems.join() !== 'ok')
        throw new Error(`it fails SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`);
    }
    const tables = new Set(
      (db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>).map(
        (r) => r.name,
      ),
    );
    if (!tables.has(MIGRATIONS_TABLE) || !tables.has('projects')) {
      throw new Error('it is a SQLite database, but not one of llm-proxy (no migrations table or projects table)');
    }
    const migrations = (
      db.prepare(`select name from ${MIGRATIONS_TABLE} order by name`).all() as Array<{ name: string }>
    ).map((r) => r.name);
    const counts = COUNTED.filter((t) => tables.has(t)).map(
      (t) => [t, (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n] as [string, number],
    );
    const projectKeys = (
      db.prepare('select id, name, api_key_encrypted from projects order by name').all() as Array<{
        id: string;
        name: string;
        api_key_encrypted: string;
      }>
    ).map((r) => ({ id: r.id, name: r.name, encrypted: r.api_key_encrypted }));
    return { bytes: statSync(file).size, migrations, counts, projectKeys };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw new Error(`it cannot be read: ${(err as Error).message}`);
    throw err;
  } finally {
    db.close();
  }
}

/**
 * Deletes what belonged to the processes that served the copied database: their instances-registry
 * rows (they do not serve the restored one) and their leases (a new server need not wait them out).
 */
export function forgetProcesses(file: string): { instances: number; leases: number } {
  const db = new SQLite(file, { fileMustExist: true });
  try {
    const tables = new Set(
      (db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>).map(
        (r) => r.name,
      ),
    );
    const clear = (t: string) => (tables.has(t) ? db.prepare(`delete from ${t}`).run().changes : 0);
    return { instances: clear('instances'), leases: clear('leases') };
  } finally {
    db.close();
  }
}

export interface InstanceSeen {
  host: string;
  pid: number;
  listen: string | null;
  last_seen_at: number;
}

/** Whether another process has the database open, and the instances registry's rows when it can be read. */
export interface UseProbe {
  /** Another process holds it open (a server, its usage worker, a command such as backup). */
  open: boolean;
  instances: InstanceSeen[];
  /** Set when the file could not be read (damaged, not a database): nothing can be using it as one. */
  unreadable?: string;
}

/**
 * Every SQLite connection to a WAL database holds a shared lock on the file for as long as it is
 * open, and the operating system drops it when the process ends, crash included. Asking for the
 * exclusive lock without waiting therefore tells whether any process has the database open now.
 */
export function probeUse(file: string): UseProbe {
  let db: SQLite.Database | undefined;
  try {
    db = new SQLite(file, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    const hasInstances = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'instances'").get();
    const instances = hasInstances
      ? (db.prepare('select host, pid, listen, last_seen_at from instances').all() as InstanceSeen[])
      : [];
    db.exec('COMMIT');
    return { open: false, instances };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return { open: true, instances: [] };
    return { open: false, instances: [], unreadable: (err as Error).message };
  } finally {
    db?.close();
  }
}

/** fsync of a file or folder, so a rename that follows is durable. */
function syncFile(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
