import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { MOCK_HEADERS } from '../../src/mock-upstream/options.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { REDIS_URL, testRedis } from '../helpers/limiters.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

/**
 * RESERVATION_TIMEOUT_MS bounds how long a request's reservation is held, on Redis and on the
 * database-counted limits alike: a request held at the upstream past it is settled as unfinished by
 * the sweeper (which runs every quarter of it) while it still runs, and its own settlement, when it
 * ends, corrects the charge to its actual use. With the default (15 minutes) nothing is swept here.
 */

/** Polls `check` every 20 ms; the 60 s safety net is only reached by a hang. */
async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RESERVATION_TIMEOUT_MS', () => {
  let tdb: TestDatabase | undefined;
  let db: pg.Client;
  let mock: MockUpstream;
  let base: Record<string, string>;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres')) || !(await serviceAvailable('redis'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    const managementToken = randomBytes(24).toString('hex');
    registerSecret(managementToken);
    base = {
      DATABASE_URL: tdb.config.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      MANAGEMENT_TOKEN: managementToken,
      OPENAI_API_URL: mock.url,
      MAINTENANCE_INTERVAL_MS: '0',
      RESERVATION_TIMEOUT_MS: '2000',
    };
    db = new pg.Client({ connectionString: tdb.config.url });
    await db.connect();
  });
  afterEach(async () => {
    mock?.release();
    for (const s of servers.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await db?.end();
    await mock?.close();
    await tdb?.drop();
  });

  const start = async (env: Record<string, string>) => {
    const s = await startTestServer({ ...base, ...env });
    servers.push(s);
    return s;
  };
  const issue = async (s: TestServer, limits: Record<string, unknown>) => {
    const p = await s.manage('POST', '/projects', {
      name: `p-${randomBytes(4).toString('hex')}`,
      api_key: UPSTREAM_KEY,
    });
    const t = await s.manage('POST', '/tokens', { project_id: p.body.id, ...limits });
    expect(t.status).toBe(201);
    return { id: t.body.id as string, token: t.body.token as string, projectId: p.body.id as string };
  };
  const heldChat = (s: TestServer, token: string) =>
    new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 }).chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 },
      { headers: { [MOCK_HEADERS.hold]: '1' } },
    );

  it('Redis: a request running past it is swept as unfinished (its slot freed), then its settlement corrects the charge', async (ctx) => {
    if (!tdb) return ctx.skip();
    const s = await start({ REDIS_URL });
    const t = await issue(s, { max_concurrent: 5, budget_usd: 10 });
    const state = () => s.server.runtime.limiter.inspect('token', t.id, t.projectId);
    const held = heldChat(s, t.token);
    await eventually('the request is at the upstream', () => mock.stats().held === 1);
    // Still running, past the timeout: the sweeper (every 500 ms) settles it at its estimate, its
    // max_concurrent slot given back.
    await eventually('the sweeper settles it', () =>
      s.logs().includes('expired limiter reservations settled as unfinished'),
    );
    const swept = await state();
    expect(swept?.inFlight).toBeUndefined();
    expect(swept?.budgets.total?.reservedMicroUsd).toBe(0);
    const estimate = swept?.budgets.total?.spentMicroUsd ?? 0;
    expect(estimate).toBeGreaterThan(0);
    expect(mock.release()).toBe(1);
    await held;
    await eventually('its settlement corrects the charge', async () => {
      const spent = (await state())?.budgets.total?.spentMicroUsd;
      return spent !== undefined && spent < estimate;
    });
    const redis = await testRedis();
    try {
      for (const key of await redis.scan(`llmp:v*:{p:${t.projectId}}:*`)) await redis.send(['DEL', key]);
    } finally {
      await redis.close();
    }
  });

  it('PostgreSQL-counted limits: a request running past it is swept as unfinished', async (ctx) => {
    if (!tdb) return ctx.skip();
    const s = await start({});
    expect(s.server.runtime.countedLimiter).toBeDefined();
    const t = await issue(s, { max_requests: 10, budget_usd: 10 });
    const reservations = async () =>
      Number(
        (await db.query<{ n: string }>('SELECT count(*) AS n FROM limit_reservations WHERE subject_id = $1', [t.id]))
          .rows[0]?.n,
      );
    const held = heldChat(s, t.token);
    await eventually('the request is at the upstream', () => mock.stats().held === 1);
    await eventually('the sweeper settles it', () =>
      s.logs().includes('expired limit reservations settled as unfinished'),
    );
    expect(await reservations()).toBe(0);
    expect(mock.release()).toBe(1);
    await held;
  });
});
