import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { auditEvents, dbEnv } from './helpers.js';

/**
 * Two instances on one PostgreSQL database, writing at once: every append takes the chain head's
 * lock, so the events form one line (seq 1…N without gaps or forks) and the chain verifies.
 */
describe('audit chain under concurrent writers on PostgreSQL', () => {
  let tdb: TestDatabase | undefined;
  let a: TestServer;
  let b: TestServer;
  const key = randomBytes(32).toString('base64');

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    const env = { ...dbEnv(tdb, key), MAINTENANCE_INTERVAL_MS: '0' };
    a = await startTestServer(env);
    b = await startTestServer({ ...env, MANAGEMENT_TOKEN: a.managementToken });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  it('keeps one linear chain while both instances create projects and tokens concurrently', async () => {
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).manage('POST', '/projects', { name: `race-${i}`, api_key: `sk-race-${i}-00000000` }),
      ),
    );
    expect(created.map((r) => r.status)).toEqual(created.map(() => 201));
    const tokens = await Promise.all(
      created.flatMap((p, i) => [
        (i % 2 ? b : a).manage('POST', '/tokens', { project_id: p.body.id }),
        (i % 2 ? a : b).manage('PATCH', `/projects/${p.body.id}`, { max_concurrent: i + 1 }),
      ]),
    );
    expect(tokens.map((r) => r.status).sort()).toEqual([...Array(40).fill(200), ...Array(40).fill(201)]);

    const events = await auditEvents(a);
    expect(events).toHaveLength(120);
    expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
    for (let i = 1; i < events.length; i++) expect(events[i]?.prev_hash).toBe(events[i - 1]?.hash);
    expect(await auditEvents(b)).toEqual(events);

    const res = await runCli(['audit', 'verify'], dbEnv(tdb as TestDatabase, key));
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toBe('OK: 120 audit event(s) verified (seq 1–120), the chain is unbroken to its head\n');
  });
});
