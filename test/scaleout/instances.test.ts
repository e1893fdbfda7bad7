import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceView } from '../../src/instances/instance-view.js';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { InstancesRepo } from '../../src/store/instances-repo.js';
import { VERSION } from '../../src/version.js';
import { runCli, type ServeProcess, spawnServe } from '../helpers/cli.js';
import { manualClock } from '../helpers/clock.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { cuttableDatabase, health, issue, logLines, proxyClient, redisServerInstalled } from '../helpers/scaleout.js';
import { callManage, startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { signedIn, withSession } from '../helpers/session.js';
import type { Forwarder } from '../helpers/tcp-forwarder.js';
import { freePort, OwnRedis } from './redis-server.js';

interface Listing {
  data: InstanceView[];
  gone_after_ms: number;
  database: { kind: string; status: string };
  redis: { state: string; mode: string } | null;
}

const list = async (s: TestServer): Promise<Listing> => {
  const r = await s.manage('GET', '/instances');
  expect(r.status).toBe(200);
  return r.body as Listing;
};
const find = (l: Listing, id: string) => l.data.find((i) => i.id === id);
const idOf = (s: TestServer) => s.server.runtime.instanceId;

/** Issues a token on `s` and returns a client for it. */
const clientOn = async (s: TestServer): Promise<OpenAI> => proxyClient(s, (await issue(s)).token);

/** A chat the mock holds until `mock.release()`: one request in flight on the proxy it went through. */
const heldChat = (client: OpenAI) =>
  client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hold' }] },
    { headers: { 'x-mock-hold': '1' } },
  );

/**
 * The instances registry on PostgreSQL: two in-process servers and a real `serve` process share one
 * database; each lists every instance with its version and in-flight count, a stopped one drains
 * and disappears, a killed one ages to `gone`.
 */
describe('instances sharing a PostgreSQL database', () => {
  let tdb: TestDatabase | undefined;
  let mock: MockUpstream;
  let env: Record<string, string>;
  const servers: TestServer[] = [];
  let killed: ServeProcess | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    env = {
      DATABASE_URL: tdb.config.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      OPENAI_API_URL: mock.url,
      INSTANCE_HEARTBEAT_MS: '100',
      // Long beside the heartbeat, so a loaded machine never shows a running instance as gone.
      INSTANCE_GONE_AFTER_MS: '4000',
    };
    servers.push(await startTestServer(env), await startTestServer(env));
  });
  afterAll(async () => {
    mock?.release();
    killed?.child.kill('SIGKILL');
    await killed?.exited;
    for (const s of servers) await s.stop();
    await mock?.close();
    await tdb?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('lists both instances, with their versions and in-flight counts, from either', async (ctx) => {
    if (!tdb) return ctx.skip();
    const [a, b] = servers as [TestServer, TestServer];
    const client = await clientOn(a);
    const pending = heldChat(client);
    // Each sees the other's heartbeat with A's request in flight (a server's first heartbeat is
    // written after it starts listening, so the other's row may not be there yet).
    for (const [reader, other] of [
      [a, b],
      [b, a],
    ] as const) {
      await until(async () => {
        const l = await list(reader);
        return find(l, idOf(other)) !== undefined && find(l, idOf(a))?.in_flight === 1;
      });
      const l = await list(reader);
      expect(l.data.map((i) => i.id).sort()).toEqual([idOf(a), idOf(b)].sort());
      expect(find(l, idOf(reader))).toMatchObject({ self: true, state: 'live', version: VERSION, database: 'ok' });
      expect(find(l, idOf(other))).toMatchObject({ self: false, state: 'live', version: VERSION, redis: null });
      expect(find(l, idOf(b))?.in_flight).toBe(0);
      expect(find(l, idOf(a))?.listen).toBe(a.url);
      expect(l.database).toEqual({ kind: 'postgres', status: 'ok' });
      expect(l.redis).toBeNull();
    }
    // /health: counts and versions only, no host or process.
    await until(async () => (await health(b)).instances?.live === 2);
    const h = await health(b);
    expect(h.instances).toMatchObject({ live: 2, draining: 0, gone: 0, versions: [VERSION] });
    expect(JSON.stringify(h)).not.toContain(idOf(a));
    // The CLI lists them too, marking the one that answered.
    const cli = await runCli(['instances', '--url', b.url, '--management-token', b.managementToken]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`* ${idOf(b)}`);
    expect(cli.stdout).toContain(`  ${idOf(a)}`);
    expect(cli.stdout).toContain('database (postgres): ok; redis: not used');

    mock.release();
    await pending;
    await until(async () => find(await list(b), idOf(a))?.in_flight === 0);
  });

  it('takes an admin session signed in on one instance on the other; signing out on either ends it on both', async (ctx) => {
    if (!tdb) return ctx.skip();
    const [a, b] = servers as [TestServer, TestServer];
    const session = await signedIn(a.url, { token: a.managementToken });
    expect((await withSession(b.url, session, 'GET', '/instances')).status).toBe(200);
    // A change through B with the session (cookie and CSRF token) made on A.
    const created = await withSession(b.url, session, 'POST', '/projects', { name: 'via-b', api_key: UPSTREAM_KEY });
    expect(created.status).toBe(201);
    expect((await withSession(b.url, session, 'DELETE', '/session')).status).toBe(204);
    expect((await withSession(a.url, session, 'GET', '/instances')).status).toBe(401);
  });

  it('shows an instance stopping as draining, and not at all once it stopped', async (ctx) => {
    if (!tdb) return ctx.skip();
    const [a, b] = servers as [TestServer, TestServer];
    const pending = heldChat(await clientOn(b));
    await until(async () => find(await list(a), idOf(b))?.in_flight === 1);
    // The held request keeps B draining until the mock lets it go.
    const stopping = b.stop();
    servers.splice(1, 1);
    await until(async () => find(await list(a), idOf(b))?.state === 'draining');
    mock.release();
    await pending;
    await stopping;
    const l = await list(a);
    expect(l.data.map((i) => i.id)).toEqual([idOf(a)]);
  });

  it('shows an instance killed without shutting down as gone once its heartbeats stop', async (ctx) => {
    if (!tdb) return ctx.skip();
    const a = servers[0] as TestServer;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-instances-'));
    dirs.push(dataDir);
    killed = await spawnServe({ ...env, DATA_DIR: dataDir });
    const pid = killed.child.pid as number;
    const other = async () => (await list(a)).data.find((i) => i.pid === pid);
    await until(async () => (await other())?.state === 'live');
    expect((await other())?.listen).toBe(killed.url);
    killed.child.kill('SIGKILL');
    await killed.exited;
    await until(async () => (await other())?.state === 'gone');
    const l = await list(a);
    expect(find(l, idOf(a))?.state).toBe('live');
    expect(l.gone_after_ms).toBe(4000);
    await until(async () => (await health(a)).instances?.gone === 1);
    expect((await health(a)).instances).toMatchObject({ live: 1, gone: 1 });
  });
});

/**
 * One instance on SQLite, its clock in the test's hands: it lists itself, a row left by a process
 * that died ages to `gone` and the maintenance pass deletes it a day later.
 */
describe('the instances registry of one instance on SQLite', () => {
  let s: TestServer;
  let mock: MockUpstream;
  const clock = manualClock();

  beforeAll(async () => {
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    s = await startTestServer(
      { OPENAI_API_URL: mock.url, INSTANCE_HEARTBEAT_MS: '50', INSTANCE_GONE_AFTER_MS: '30000' },
      clock.now,
    );
  });
  afterAll(async () => {
    mock?.release();
    await s?.stop();
    await mock?.close();
  });

  /** Waits for a heartbeat written at the clock's time now. */
  const beatAtNow = async () => {
    const t = clock.now();
    await until(() => (s.server.runtime.heartbeat.lastRead()?.readAt ?? 0) >= t);
  };

  it('lists itself with its in-flight count; /health counts it', async () => {
    const pending = heldChat(await clientOn(s));
    await until(async () => (await list(s)).data[0]?.in_flight === 1);
    const l = await list(s);
    expect(l.data).toHaveLength(1);
    expect(l.data[0]).toMatchObject({ id: idOf(s), self: true, state: 'live', version: VERSION, pid: process.pid });
    expect(l.database).toEqual({ kind: 'sqlite', status: 'ok' });
    mock.release();
    await pending;
    expect((await health(s)).instances).toMatchObject({ live: 1, draining: 0, gone: 0, versions: [VERSION] });
  });

  it('ages a dead process’s row to gone, and the maintenance pass deletes it a day later', async () => {
    const repo = new InstancesRepo(s.server.runtime.db);
    const dead = { ...s.server.runtime.heartbeat.row(), id: 'elsewhere:4242:deadbeef', pid: 4242 };
    await repo.upsert(dead);
    expect(find(await list(s), dead.id)?.state).toBe('live');
    clock.advance(30_001);
    await beatAtNow();
    let l = await list(s);
    expect(find(l, dead.id)?.state).toBe('gone');
    expect(find(l, idOf(s))?.state).toBe('live');
    // Gone rows stay a day: a pass now keeps it.
    expect((await s.server.runtime.maintenance.runOnce()).instances_deleted).toBe(0);
    clock.advance(86_400_000);
    await beatAtNow();
    const report = await s.server.runtime.maintenance.runOnce();
    expect(report.instances_deleted).toBe(1);
    l = await list(s);
    expect(l.data.map((i) => i.id)).toEqual([idOf(s)]);
  });
});

/**
 * The heartbeat through a database that goes away: the loop keeps trying (one warning for the
 * whole outage), the management API lists this instance alone and says the database is
 * unreachable, and the heartbeat resumes when the database is back.
 */
describe('the heartbeat while PostgreSQL is unreachable', () => {
  let tdb: TestDatabase | undefined;
  let fwd: Forwarder;
  let s: TestServer | undefined;

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    const cut = await cuttableDatabase(tdb.config.url);
    fwd = cut.fwd;
    s = await startTestServer({
      DATABASE_URL: cut.url,
      DATABASE_QUERY_TIMEOUT_MS: '1000',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      INSTANCE_HEARTBEAT_MS: '50',
    });
  });
  afterAll(async () => {
    fwd?.resume();
    await s?.stop();
    await fwd?.close();
    await tdb?.drop();
  });

  it('keeps beating, warns once, lists itself alone, and recovers', async (ctx) => {
    if (!tdb || !s) return ctx.skip();
    const server = s;
    const beats = server.server.runtime.heartbeat.beats;
    await until(() => beats.written > 0);
    fwd.refuse();
    const failedBefore = beats.failed;
    await until(() => beats.failed >= failedBefore + 3);
    const warnings = () => logLines(server, '"msg":"instance heartbeat failed; retrying"');
    expect(warnings()).toBe(1);
    const l = await list(server);
    expect(l.database).toEqual({ kind: 'postgres', status: 'unreachable' });
    expect(l.data).toHaveLength(1);
    expect(l.data[0]).toMatchObject({ id: idOf(server), self: true, state: 'live' });
    fwd.resume();
    const writtenBefore = beats.written;
    await until(() => beats.written > writtenBefore);
    expect(server.logs()).toContain('"msg":"instance heartbeat written again"');
    expect((await list(server)).database.status).toBe('ok');
    expect(warnings()).toBe(1);
  });
});

/**
 * WORKERS=2 with Redis, as a user runs it (`llm-proxy serve` in its own process): each worker is an
 * instance of its own, listed with its slot on the one port, and sees Redis answering.
 */
describe('the instances of WORKERS=2', () => {
  let redis: OwnRedis | undefined;
  let proxy: ServeProcess | undefined;
  let dataDir: string;

  beforeAll(async () => {
    if (!redisServerInstalled()) return;
    redis = new OwnRedis(await freePort());
    await redis.start();
    dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-instances-workers-'));
    proxy = await spawnServe({
      WORKERS: '2',
      REDIS_URL: redis.url,
      DATA_DIR: dataDir,
      INSTANCE_HEARTBEAT_MS: '100',
      AUDIT_REFUSED_REQUESTS: 'false',
    });
  });
  afterAll(async () => {
    if (proxy && proxy.child.exitCode === null) {
      proxy.child.kill('SIGTERM');
      await proxy.exited;
    }
    await redis?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists each worker with its slot, the same listen URL, and Redis ok', async (ctx) => {
    if (!proxy) return ctx.skip();
    const url = proxy.url;
    const token = readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim();
    const listing = async (): Promise<Listing> => (await callManage(url, token, 'GET', '/instances')).body as Listing;
    await until(async () => (await listing()).data.filter((i) => i.state === 'live').length === 2);
    const l = await listing();
    expect(l.data.map((i) => i.worker).sort()).toEqual([0, 1]);
    expect(new Set(l.data.map((i) => i.pid)).size).toBe(2);
    for (const i of l.data) expect(i).toMatchObject({ listen: url, redis: 'ok', database: 'ok', version: VERSION });
    expect(l.redis).toEqual({ state: 'ok', mode: 'closed' });
    expect(l.data.filter((i) => i.self)).toHaveLength(1);
  });
});
