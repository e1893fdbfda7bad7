import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';

// PostgreSQL returns bigint (int8) as text to avoid precision loss; our bigints are epoch
// milliseconds and counters, far below 2^53, so numbers are safe and keep both dialects alike.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export type Db = Kysely<Database>;

/** `onError` hears about connections lost while idle (the next query reconnects or fails cleanly). */
export function openDatabase(cfg: DatabaseConfig, onError: (err: Error) => void = () => {}): Db {
  if (cfg.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: cfg.url, max: 10, connectionTimeoutMillis: 5_000 });
    // Without listeners, a client's error (server restart, terminated backend), idle or checked
    // out, would be an uncaught 'error' event and end the process. The query in flight still fails.
    pool.on('error', onError);
    pool.on('connect', (client) => client.on('error', onError));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(cfg.path) }) });
}

/** Readiness probe: a round trip to the database. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
