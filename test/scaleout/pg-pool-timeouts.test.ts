import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config/config.js';
import { type Db, openDatabase, poolStats } from '../../src/store/database.js';
import { storeOutage } from '../../src/store/store-errors.js';
import { spawnCli } from '../helpers/cli.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { until } from '../helpers/proxy.js';
import { cuttableDatabase } from '../helpers/scaleout.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

const KEY = randomBytes(32).toString('base64');

/** A URL of `tdb` whose connections pg_stat_activity shows under `app`. */
function urlWithApp(tdb: TestDatabase, app: string): string {
  const u = new URL((tdb.config as { url: string }).url);
  u.searchParams.set('application_name', app);
  return u.toString();
}

/** A session of the test's own that holds an exclusive lock on `table` until `release`. */
async function lockTable(url: string, table: string): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await c.query('COMMIT');
      await c.end();
    },
  };
}

describe('PostgreSQL pool size and timeouts', () => {
  let tdb: TestDatabase | undefined;
  let admin: pg.Client;

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    admin = new pg.Client({ connectionString: (tdb.config as { url: string }).url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await tdb?.drop();
  });

  const connectionsOf = async (app: string) =>
    Number(
      (await admin.query('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0].n,
    );

  it('DATABASE_POOL_SIZE: 20 management requests at once, all blocked, take 3 connections; the rest wait', async (ctx) => {
    if (!tdb) return ctx.skip();
    const app = `llmp_pool_${randomBytes(4).toString('hex')}`;
    const url = urlWithApp(tdb, app);
    const s: TestServer = await startTestServer({
      DATABASE_URL: url,
      ENCRYPTION_KEY: KEY,
      DATABASE_POOL_SIZE: '3',
      // Nothing may time out while the table is locked: only the pool's bound is under test.
      DATABASE_QUERY_TIMEOUT_MS: '0',
      DATABASE_CONNECT_TIMEOUT_MS: '0',
      MAINTENANCE_INTERVAL_MS: '0',
    });
    const lock = await lockTable(url.replace(app, `${app}_lock`), 'projects');
    try {
      let answered = 0;
      const answers = Promise.all(
        Array.from({ length: 20 }, () => s.manage('GET', '/projects').finally(() => answered++)),
      );
      // Every request is on a connection (blocked by the lock) or waiting for one (or, wrongly, answered).
      await until(() => {
        const p = poolStats(s.server.runtime.db);
        return p !== undefined && p.open - p.idle + p.waiting + answered >= 20;
      });
      expect(answered).toBe(0);
      await until(async () => (await connectionsOf(app)) >= 3);
      // 17 requests wait, and whatever else of the server's wanted a connection meanwhile.
      const stats = poolStats(s.server.runtime.db);
      expect(stats?.open).toBe(3);
      expect(stats?.waiting).toBeGreaterThanOrEqual(17);
      expect(await connectionsOf(app)).toBe(3);
      await lock.release();
      const statuses = (await answers).map((a) => a.status);
      expect(statuses).toEqual(Array(20).fill(200));
      expect(await connectionsOf(app)).toBeLessThanOrEqual(3);
    } finally {
      await lock.release();
      await s.stop();
    }
  });

  it('DATABASE_STATEMENT_TIMEOUT_MS: the server cancels a slow statement (57014), the connection is kept, a request gets 503', async (ctx) => {
    if (!tdb) return ctx.skip();
    const app = `llmp_stmt_${randomBytes(4).toString('hex')}`;
    const url = urlWithApp(tdb, app);
    const s = await startTestServer({
      DATABASE_URL: url,
      ENCRYPTION_KEY: KEY,
      DATABASE_POOL_SIZE: '1',
      DATABASE_STATEMENT_TIMEOUT_MS: '300',
      // The client waits far longer: what ends the statement is the server.
      DATABASE_QUERY_TIMEOUT_MS: '600000',
      MAINTENANCE_INTERVAL_MS: '0',
    });
    try {
      const { db } = s.server.runtime;
      const setting = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(db);
      expect(setting.rows[0]?.statement_timeout).toBe('300ms');
      const pid = async () => (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]?.pid;
      const before = await pid();

      const slow = await sql`SELECT pg_sleep(600)`.execute(db).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((slow as { code?: string }).code).toBe('57014');
      expect(storeOutage(slow)).toBe('timeout');
      // Cancelled by the server, not abandoned by the client: the same connection answers next.
      expect(await pid()).toBe(before);

      // A statement blocked by another session's lock is a slow statement too.
      const lock = await lockTable(url.replace(app, `${app}_lock`), 'projects');
      try {
        const res = await s.manage('GET', '/projects');
        expect(res.status).toBe(503);
        expect(res.body.error).toMatchObject({ code: 'store_unavailable', type: 'server_error' });
      } finally {
        await lock.release();
      }
      expect((await s.manage('GET', '/projects')).status).toBe(200);
      expect(await pid()).toBe(before);
    } finally {
      await s.stop();
    }
  });

  it('a transaction cut off from its instance mid-way does not keep its row locks: the server ends it', async (ctx) => {
    if (!tdb) return ctx.skip();
    const url = (tdb.config as { url: string }).url;
    await admin.query(
      'CREATE TABLE lock_probe (id int PRIMARY KEY, n int NOT NULL); INSERT INTO lock_probe VALUES (1, 0)',
    );
    const { fwd, url: through } = await cuttableDatabase(url);
    const db = openDatabase({ kind: 'postgres', url: through, poolSize: 1, queryTimeoutMs: 1000 });
    try {
      // The instance locks a row, then the network between it and the database goes silent (its
      // next statement never arrives): the server sees a session idle in a transaction.
      const cut = db
        .transaction()
        .execute(async (trx) => {
          await sql`UPDATE lock_probe SET n = n + 1 WHERE id = 1`.execute(trx);
          fwd.blackhole();
          await sql`SELECT 1`.execute(trx);
        })
        .then(
          () => 'committed',
          (err: unknown) => (storeOutage(err) ? 'outage' : String(err)),
        );
      expect(await cut).toBe('outage');
      // Another instance's write of the same row goes through once the server ends that session
      // (idle_in_transaction_session_timeout); without it, it waits for TCP to notice: hours.
      // lock_timeout only turns a hang into a failure here.
      await admin.query("SET lock_timeout = '60s'");
      await admin.query('UPDATE lock_probe SET n = n + 10 WHERE id = 1');
      expect((await admin.query('SELECT n FROM lock_probe')).rows[0].n).toBe(10);
    } finally {
      fwd.drop();
      await db.destroy();
      await fwd.close();
    }
  });

  it('DATABASE_CONNECT_TIMEOUT_MS: waiting for a free connection in a full pool fails, naming the pool size', async (ctx) => {
    if (!tdb) return ctx.skip();
    const cfg: DatabaseConfig = {
      kind: 'postgres',
      url: (tdb.config as { url: string }).url,
      poolSize: 1,
      connectTimeoutMs: 200,
      queryTimeoutMs: 0,
    };
    const db: Db = openDatabase(cfg);
    const lock = await lockTable(cfg.url, 'projects');
    try {
      const blocked = db.selectFrom('projects').selectAll().execute();
      await until(() => poolStats(db)?.open === 1 && poolStats(db)?.idle === 0);
      const err = await sql`SELECT 1`.execute(db).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toBe(
        'no free connection in the pool (DATABASE_POOL_SIZE 1, all in use) within DATABASE_CONNECT_TIMEOUT_MS (200 ms)',
      );
      expect(storeOutage(err)).toBe('timeout');
      await lock.release();
      await blocked;
    } finally {
      await db.destroy();
    }
  });
});

describe('DATABASE_CONNECT_TIMEOUT_MS at start: a database host that never answers', () => {
  let hole: net.Server;
  const held = new Set<net.Socket>();
  beforeAll(async () => {
    // Accepts connections and never sends a byte: what a firewall dropping packets looks like.
    hole = net.createServer((sock) => {
      held.add(sock);
      sock.on('error', () => {});
      sock.on('close', () => held.delete(sock));
    });
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => hole.close(() => resolve()));
  });

  it('stops the start once the timeout runs out, naming DATABASE_URL and the setting, never the password', async () => {
    const port = (hole.address() as net.AddressInfo).port;
    const started = performance.now();
    const r = await spawnCli(['serve'], {
      DATABASE_URL: `postgres://llmp:pw-s3cret-9f2c@127.0.0.1:${port}/llmp`,
      DATABASE_CONNECT_TIMEOUT_MS: '1500',
      ENCRYPTION_KEY: KEY,
      LISTEN_ADDR: '127.0.0.1:0',
      DATA_DIR: `${process.env.TMPDIR ?? '/tmp'}/llmp-blackhole-${process.pid}`,
    });
    // Not before the timeout: the setting, not some other limit, ended the wait.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1500);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `DATABASE_URL: cannot connect to PostgreSQL: no connection to PostgreSQL at 127.0.0.1:${port}/llmp within DATABASE_CONNECT_TIMEOUT_MS (1500 ms)`,
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain('pw-s3cret-9f2c');
  });
});
