import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';
import { storeOutage } from './store-errors.js';

// PostgreSQL returns bigint (int8) as text to avoid precision loss; our bigints are epoch
// milliseconds and counters, far below 2^53, so numbers are safe and keep both dialects alike.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export type Db = Kysely<Database>;

/** How long taking a connection may take at most (also bounded by the query timeout). */
const CONNECT_TIMEOUT_MS = 5_000;

/** `onError` hears about connections lost while idle (the next query reconnects or fails cleanly). */
export function openDatabase(cfg: DatabaseConfig, onError: (err: Error) => void = () => {}): Db {
  if (cfg.kind === 'postgres') {
    const timeout = cfg.queryTimeoutMs || undefined;
    const pool = new pg.Pool({
      connectionString: cfg.url,
      max: 10,
      connectionTimeoutMillis: timeout === undefined ? CONNECT_TIMEOUT_MS : Math.min(CONNECT_TIMEOUT_MS, timeout),
      // Client side: a server that stops answering on an open connection (a network blackhole)
      // fails the query after this long instead of hanging it for the TCP timeout.
      ...(timeout === undefined ? {} : { query_timeout: timeout }),
      // Server side: a statement the client has given up on does not keep running and holding locks.
      ...(timeout === undefined ? {} : { statement_timeout: timeout }),
    });
    // Without listeners, a client's error (server restart, terminated backend), idle or checked
    // out, would be an uncaught 'error' event and end the process. The query in flight still fails.
    pool.on('error', onError);
    pool.on('connect', (client) => client.on('error', onError));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingTimedOut(pool) }) });
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(cfg.path) }) });
}

/** The same database without a query timeout, for migrations, which may rightly run long. */
export function withoutQueryTimeout(cfg: DatabaseConfig): DatabaseConfig {
  return cfg.kind === 'postgres' ? { ...cfg, queryTimeoutMs: undefined } : cfg;
}

/**
 * node-postgres gives up on a query at `query_timeout` but keeps the connection, with the
 * unanswered query still at the head of its queue: returned to the pool, every later query on it
 * would wait behind that one and time out too. A connection that timed out is therefore released
 * with an error, which makes pg-pool end it (`Client.end` destroys a socket with a query in
 * flight) and open a fresh one for the next caller.
 */
function discardingTimedOut(pool: pg.Pool): PostgresPool {
  return {
    connect: async (): Promise<PostgresPoolClient> => {
      const client = await pool.connect();
      let wedged = false;
      const query = (...args: unknown[]): unknown => {
        const result = (client.query as (...a: unknown[]) => unknown)(...args);
        // Kysely awaits plain queries; cursors (streaming) return an object, not a promise.
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            if (storeOutage(err) === 'timeout') wedged = true;
            throw err;
          });
        }
        return result;
      };
      return {
        query: query as PostgresPoolClient['query'],
        // Kysely asks for the connection to be destroyed when it gave up on it (`destroy`).
        release: (destroy?: boolean) =>
          client.release(wedged ? new Error('query timed out: connection discarded') : destroy),
      };
    },
    end: () => pool.end(),
    // Kysely reads the pool's settings to open a side connection when it cancels a query.
    options: pool.options,
  };
}

/** Readiness probe: a round trip to the database. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
