import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../src/mock-upstream/index.js';
import { postgresDatabase, type TestDatabase } from './helpers/databases.js';
import { until } from './helpers/proxy.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { POSTGRES_URL, serviceAvailable } from './helpers/services.js';

/** The database goes away under a running proxy (PostgreSQL refuses connections), then returns. */
describe('a database that goes away', () => {
  let tdb: TestDatabase | undefined;
  let s: TestServer;
  let mock: MockUpstream;
  let dbName: string;

  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  const cutOff = async () => {
    // ALLOW_CONNECTIONS also binds superusers (CONNECTION LIMIT does not).
    await admin(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await admin(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid()`,
    );
  };
  const restore = () => admin(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    dbName = new URL(tdb.config.url).pathname.slice(1);
    mock = await startMockUpstream({ apiKey: 'sk-upstream' });
    s = await startTestServer({
      DATABASE_URL: tdb.config.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      OPENAI_API_URL: mock.url,
      USAGE_FLUSH_INTERVAL_MS: '50',
    });
  });
  afterAll(async () => {
    if (!tdb) return;
    await restore().catch(() => {});
    await s?.stop();
    await mock?.close();
    await tdb.drop();
  });

  it('keeps proxying with cached tokens, answers 503 on management and readiness, and loses no usage', async (ctx) => {
    if (!tdb) return ctx.skip();
    const p = await s.manage('POST', '/projects', { name: 'resilient', api_key: 'sk-upstream' });
    const t = await s.manage('POST', '/tokens', { project_id: p.body.id });
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: t.body.token, maxRetries: 0 });
    await client.models.list(); // warms the token cache
    // Its usage record is written before the cut, so exactly the requests made during it wait.
    // (The record is queued just after the response: wait for it to be queued, then write it.)
    const usage = s.server.runtime.usage;
    await until(() => usage.pending + usage.written === 1);
    await usage.flush();
    expect(usage.written).toBe(1);

    await cutOff();
    const ready = await fetch(`${s.url}/ready`);
    expect(ready.status).toBe(503);
    const list = await s.manage('GET', '/projects');
    expect(list.status).toBe(503);
    expect(list.body.error).toMatchObject({ code: 'store_unavailable', type: 'server_error' });
    expect(JSON.stringify(list.body)).not.toMatch(/at .*\.js|postgres:\/\//);

    for (let i = 0; i < 5; i++) {
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `hi ${i}` }],
      });
      expect(r.usage?.total_tokens).toBeGreaterThan(0);
    }
    // An unknown token cannot be checked while the store is down: a clear 503, not a crash.
    const unknown = await fetch(`${s.url}/v1/models`, { headers: { authorization: 'Bearer sk-llmp-unknown' } });
    expect(unknown.status).toBe(503);
    // The five chats wait in the queue (models was written before the cut); writes keep failing.
    await until(() => usage.pending === 5);
    await usage.flush();
    expect(usage).toMatchObject({ pending: 5, written: 1, dropped: 0 });

    await restore();
    await usage.flush();
    expect(usage.pending).toBe(0);
    expect((await s.server.runtime.usageRepo.listByToken(t.body.id)).length).toBe(6);
    expect((await s.manage('GET', `/tokens/${t.body.id}`)).body.request_count).toBe(6);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
  });
});
