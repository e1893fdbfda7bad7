import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from '../helpers/cli.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { serviceAvailable } from '../helpers/services.js';

const INSTANCES = 3;

/**
 * Several instances started at once on one fresh, empty PostgreSQL database (a deploy that starts
 * every replica together): each migrates under the same advisory lock, so exactly one applies each
 * migration, the others wait and then find the schema current, and every one of them starts.
 */
describe('instances started together on an empty PostgreSQL database', () => {
  let tdb: TestDatabase | undefined;
  const dirs: string[] = [];
  let procs: ServeProcess[] = [];

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await tdb?.drop();
  });

  it('all become ready; each migration is applied exactly once and no start logs a migration error', async (ctx) => {
    if (tdb?.config.kind !== 'postgres') return ctx.skip();
    const url = tdb.config.url;
    const key = randomBytes(32).toString('base64');
    const env = (i: number) => {
      const dir = mkdtempSync(path.join(tmpdir(), `llmp-concurrent-${i}-`));
      dirs.push(dir);
      return {
        DATA_DIR: dir,
        DATABASE_URL: url,
        ENCRYPTION_KEY: key,
        MANAGEMENT_TOKEN: 'concurrent-start-management-token',
        LOG_LEVEL: 'info',
      };
    };
    const started = await Promise.allSettled(Array.from({ length: INSTANCES }, (_, i) => spawnServe(env(i))));
    procs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failures = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    expect(failures).toEqual([]);

    for (const p of procs) expect((await fetch(`${p.url}/ready`)).status).toBe(200);
    const logs = procs.map((p) => `${p.stdout()}\n${p.stderr()}`).join('\n');
    expect(logs).not.toMatch(/migration .* failed|migrat\w* error/i);
    // The migrations were applied by one instance: the others logged nothing for them.
    expect(logs.match(/"msg":"database migrated"/g)?.length).toBe(1);

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ name: string; n: string }>(
        'SELECT name, count(*) AS n FROM kysely_migration GROUP BY name ORDER BY name',
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect({ name: r.name, n: Number(r.n) }).toEqual({ name: r.name, n: 1 });
    } finally {
      await c.end();
    }
  });
});
