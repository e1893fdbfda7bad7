/**
 * What the two dialects' errors mean, in one place (SQLite's codes from better-sqlite3, PostgreSQL's
 * SQLSTATEs and node-postgres's own errors). Imports nothing. The store only says what an error
 * means; whoever meets one turns an outage into the catalogue's `errors.storeUnavailable(kind)`:
 * the server's error handler, and the services the proxy reads the store through (the
 * authenticator, the limiter's spend loader), so a store error never reaches the proxy as such.
 */

/** True for a unique-constraint violation in either dialect (SQLite or PostgreSQL 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** Why the store cannot serve right now: a retry later can succeed, so callers get a 503, not a 500. */
export type StoreOutage = 'disk_full' | 'timeout' | 'unavailable';

/** Codes of a database that is down, going away, overloaded or out of disk. */
const OUTAGE_CODES = new Map<string, StoreOutage>([
  ['ECONNREFUSED', 'unavailable'],
  ['ECONNRESET', 'unavailable'],
  ['ETIMEDOUT', 'timeout'],
  ['EPIPE', 'unavailable'],
  ['ENOSPC', 'disk_full'],
  ['57P01', 'unavailable'], // admin_shutdown
  ['57P02', 'unavailable'], // crash_shutdown
  ['57P03', 'unavailable'], // cannot_connect_now
  ['57014', 'timeout'], // query_canceled (statement_timeout)
  ['08000', 'unavailable'],
  ['08003', 'unavailable'],
  ['08006', 'unavailable'], // connection exceptions
  ['53100', 'disk_full'], // disk_full
  ['53200', 'unavailable'], // out_of_memory
  ['53300', 'unavailable'], // too_many_connections
  ['3D000', 'unavailable'], // database does not exist
  ['SQLITE_FULL', 'disk_full'],
  ['SQLITE_BUSY', 'unavailable'],
  ['SQLITE_LOCKED', 'unavailable'],
  ['SQLITE_CANTOPEN', 'unavailable'],
  ['SQLITE_IOERR', 'unavailable'],
]);

/** node-postgres and pg-pool errors that carry no code, recognised by their (fixed) messages. */
const OUTAGE_MESSAGES: Array<[RegExp, StoreOutage]> = [
  [/Query read timeout|timeout exceeded when trying to connect|connection timeout/i, 'timeout'],
  [/Connection terminated|pool is ended|not currently accepting connections|not queryable/i, 'unavailable'],
];

/** The kind of outage an error reports, or undefined for any other error (a bug, bad data). */
export function storeOutage(err: unknown): StoreOutage | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const byCode = OUTAGE_CODES.get(code);
  if (byCode) return byCode;
  // SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC, …: extended codes of an I/O failure.
  if (code.startsWith('SQLITE_IOERR')) return 'unavailable';
  if (typeof e?.message !== 'string') return undefined;
  for (const [re, kind] of OUTAGE_MESSAGES) if (re.test(e.message)) return kind;
  return undefined;
}

export function isStoreOutage(err: unknown): boolean {
  return storeOutage(err) !== undefined;
}

/**
 * A short description of a failed write that is safe to show without authentication (readiness):
 * the kind and the code, never the driver's message, which can name hosts and ports.
 */
export function describeStoreFailure(err: unknown): string {
  const kind = storeOutage(err);
  const code = (err as { code?: unknown } | null)?.code;
  const what = kind === 'disk_full' ? 'disk full' : kind === 'timeout' ? 'timeout' : kind ? 'unavailable' : 'error';
  return typeof code === 'string' && code ? `${what} (${code})` : what;
}
