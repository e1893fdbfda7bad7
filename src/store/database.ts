import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';

// PostgreSQL returns bigint (int8) as text to avoid precision loss; our bigints are epoch
// milliseconds and counters, far below 2^53, so numbers are safe and keep both dialects alike.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export type Db = Kysely<Database>;

/** Defaults for a configuration that does not say (tests, tools): the settings' defaults. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_POOL_SIZE = 10;

type PostgresConfig = Extract<DatabaseConfig, { kind: 'postgres' }>;

/** The limits a PostgreSQL pool runs with, each 0 for none, and the settings that give them. */
export function postgresLimits(cfg: PostgresConfig): {
  poolSize: number;
  queryTimeoutMs: number;
  statementTimeoutMs: number;
  connect: { ms: number; setting: string };
} {
  const queryTimeoutMs = cfg.queryTimeoutMs ?? 0;
  const connectMs = cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  // Taking a connection is part of a query: it never waits longer than the query may.
  const connect =
    queryTimeoutMs > 0 && (connectMs === 0 || queryTimeoutMs < connectMs)
      ? { ms: queryTimeoutMs, setting: 'DATABASE_QUERY_TIMEOUT_MS' }
      : { ms: connectMs, setting: 'DATABASE_CONNECT_TIMEOUT_MS' };
  return {
    poolSize: cfg.poolSize ?? DEFAULT_POOL_SIZE,
    queryTimeoutMs,
    statementTimeoutMs: cfg.statementTimeoutMs ?? queryTimeoutMs,
    connect,
  };
}

const pools = new WeakMap<Db, pg.Pool>();

/** A PostgreSQL pool's connections (open, idle) and the callers waiting for one; undefined on SQLite. */
export function poolStats(db: Db): { open: number; idle: number; waiting: number } | undefined {
  const pool = pools.get(db);
  return pool && { open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/** `onError` hears about connections lost while idle (the next query reconnects or fails cleanly). */
export function openDatabase(cfg: DatabaseConfig, onError: (err: Error) => void = () => {}): Db {
  if (cfg.kind === 'postgres') {
    const limits = postgresLimits(cfg);
    const pool = new pg.Pool({
      connectionString: cfg.url,
      // What pg_stat_activity shows, unless the URL names one (?application_name=).
      application_name: 'llm-proxy',
      max: limits.poolSize,
      connectionTimeoutMillis: limits.connect.ms,
      // Client side: a server that stops answering on an open connection (a network blackhole)
      // fails the query after this long instead of hanging it for the TCP timeout. The connection
      // is then discarded (see discardingTimedOut).
      ...(limits.queryTimeoutMs > 0 ? { query_timeout: limits.queryTimeoutMs } : {}),
      // Server side: the server cancels a statement that runs (or waits for a lock) too long, so it
      // does not keep running and holding locks; the caller gets 57014 and the connection is kept.
      ...(limits.statementTimeoutMs > 0 ? { statement_timeout: limits.statementTimeoutMs } : {}),
      // Server side: a transaction whose instance went silent between two statements (a network
      // partition, a process frozen or killed without its socket closing) is ended after as long as
      // one statement may run, instead of holding its row locks until TCP notices (hours): other
      // instances' writes of the same token, project or counter would wait behind it. Our
      // transactions never wait on anything but the database between statements.
      ...(limits.statementTimeoutMs > 0 ? { idle_in_transaction_session_timeout: limits.statementTimeoutMs } : {}),
    });
    // Without listeners, a client's error (server restart, terminated backend), idle or checked
    // out, would be an uncaught 'error' event and end the process. The query in flight still fails.
    pool.on('error', onError);
    pool.on('connect', (client) => client.on('error', onError));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingTimedOut(pool, cfg) }) });
    pools.set(db, pool);
    return db;
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(cfg.path) }) });
}

/**
 * pg-pool's two connect timeouts, said in the settings' terms: where the database is (never the
 * URL's password) and which setting ran out. The code keeps them a `timeout` outage.
 */
function connectFailure(err: unknown, cfg: PostgresConfig): unknown {
  const message = (err as Error | null)?.message;
  const { connect, poolSize } = postgresLimits(cfg);
  const within = `within ${connect.setting} (${connect.ms} ms)`;
  let text: string | undefined;
  if (message === 'Connection terminated due to connection timeout') {
    text = `no connection to PostgreSQL at ${whereIs(cfg.url)} ${within}`;
  } else if (message === 'timeout exceeded when trying to connect') {
    text = `no free connection in the pool (DATABASE_POOL_SIZE ${poolSize}, all in use) ${within}`;
  }
  if (text === undefined) return err;
  return Object.assign(new Error(text, { cause: err }), { code: 'ETIMEDOUT' });
}

/** host:port/database of a PostgreSQL URL: enough to find it, without user or password. */
export function whereIs(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host || 'localhost'}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * The same database without query or statement timeouts, for migrations, which may rightly run
 * long.
 */
export function withoutQueryTimeout(cfg: DatabaseConfig): DatabaseConfig {
  return cfg.kind === 'postgres' ? { ...cfg, queryTimeoutMs: 0, statementTimeoutMs: 0 } : cfg;
}

/**
 * node-postgres gives up on a query at `query_timeout` but keeps the connection, with the
 * unanswered query still at the head of its queue: returned to the pool, every later query on it
 * would wait behind that one and time out too. A connection that timed out is therefore released
 * with an error, which makes pg-pool end it (`Client.end` destroys a socket with a query in
 * flight) and open a fresh one for the next caller.
 */
function discardingTimedOut(pool: pg.Pool, cfg: PostgresConfig): PostgresPool {
  return {
    connect: async (): Promise<PostgresPoolClient> => {
      const client = await pool.connect().catch((err: unknown) => {
        throw connectFailure(err, cfg);
      });
      let wedged = false;
      const query = (...args: unknown[]): unknown => {
        const result = (client.query as (...a: unknown[]) => unknown)(...args);
        // Kysely awaits plain queries; cursors (streaming) return an object, not a promise.
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            // Only the client's own timeout leaves the query unanswered; a statement the server
            // cancelled (57014) was answered, and its connection is as good as before.
            if (isClientTimeout(err)) wedged = true;
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

/** node-postgres's `query_timeout` error (it has no code): the query is still on the connection. */
function isClientTimeout(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === undefined && typeof e?.message === 'string' && /Query read timeout/i.test(e.message);
}

/** Readiness probe: a round trip to the database. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
