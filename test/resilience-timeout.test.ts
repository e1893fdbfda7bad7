import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../src/mock-upstream/index.js';
import { poolStats } from '../src/store/database.js';
import { postgresDatabase, type TestDatabase } from './helpers/databases.js';
import { until } from './helpers/proxy.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { serviceAvailable } from './helpers/services.js';
import { Forwarder } from './helpers/tcp-forwarder.js';

describe('a PostgreSQL that stops answering on open connections (blackhole)', () => {
  let tdb: TestDatabase | undefined;
  let fwd: Forwarder;
  let s: TestServer;
  let mock: MockUpstream;

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    fwd = new Forwarder(5432);
    await fwd.listen();
    const url = new URL(tdb.config.url);
    url.host = `127.0.0.1:${fwd.port}`;
    mock = await startMockUpstream({ apiKey: 'sk-upstream' });
    s = await startTestServer({
      DATABASE_URL: url.toString(),
      DATABASE_QUERY_TIMEOUT_MS: '500',
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      OPENAI_API_URL: mock.url,
      USAGE_FLUSH_INTERVAL_MS: '50',
    });
  });
  afterAll(async () => {
    if (!tdb) return;
    fwd?.resume();
    await s?.stop();
    await mock?.close();
    await fwd?.close();
    await tdb.drop();
  });

  it('times queries out: usage writes fail and are retried, management answers 503, readiness says why', async (ctx) => {
    if (!tdb) return ctx.skip();
    const p = await s.manage('POST', '/projects', { name: 'blackholed', api_key: 'sk-upstream' });
    const t = await s.manage('POST', '/tokens', { project_id: p.body.id });
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: t.body.token, maxRetries: 0 });
    await client.models.list(); // warms the token cache
    const usage = s.server.runtime.usage;
    await until(() => usage.pending === 0 && usage.written === 1);

    fwd.blackhole();
    const chat = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hold on' }],
    });
    expect(chat.usage?.total_tokens).toBeGreaterThan(0); // the proxy never waits on the database
    // The write times out (instead of hanging for the TCP timeout) and the writer says so.
    await until(() => usage.health().failing !== undefined);
    expect(usage.health().failing).toMatch(/^timeout/);
    expect(usage.pending).toBe(1);

    const list = await s.manage('GET', '/projects');
    expect(list.status).toBe(503);
    expect(list.body.error).toMatchObject({ code: 'store_unavailable', type: 'server_error' });
    const ready = await fetch(`${s.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'not_ready',
      checks: { database: 'unreachable', usage_writer: expect.stringMatching(/^failing: timeout/) },
      usage_pending: 1,
    });

    fwd.resume();
    // Retried on the flush timer, on fresh connections: the wedged ones were discarded.
    await until(() => usage.pending === 0 && usage.health().failing === undefined);
    expect((await s.server.runtime.usageRepo.listByToken(t.body.id)).length).toBe(2);
    expect((await s.manage('GET', `/tokens/${t.body.id}`)).body.request_count).toBe(2);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);

    // Only the connections open now freeze: a connection whose query timed out is discarded, not
    // handed out again, so the pool soon serves from fresh connections. Each frozen connection
    // fails at most one query, this test's or a background job's (the heartbeat, the change feed),
    // whichever takes it first; the pool may also have closed idle ones meanwhile.
    expect((await s.manage('GET', '/projects')).status).toBe(200);
    const frozen = poolStats(s.server.runtime.db)?.open ?? 0;
    fwd.freezeOpen();
    const statuses: number[] = [];
    for (let i = 0; i < 12 && statuses.at(-1) !== 200; i++) statuses.push((await s.manage('GET', '/projects')).status);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(0, -1).every((x) => x === 503)).toBe(true);
    expect(statuses.length - 1).toBeLessThanOrEqual(frozen);
  });
});
