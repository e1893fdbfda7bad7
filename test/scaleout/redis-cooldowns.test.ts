import { afterAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { manualClock } from '../helpers/clock.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { chat, eventually, health, logLines, samples, serversOnPostgres } from '../helpers/scaleout.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const keysOf = async (s: TestServer) => (await health(s)).upstream_keys as { cooling: number; half_open: number };
const sharingState = (s: TestServer) => samples(s, 'llm_proxy_upstream_cooldown_sharing_state', { state: undefined });

/**
 * A 500 (no retry-after) cools a key for UPSTREAM_COOLDOWN_MS: Redis expires a stored cooldown on
 * its own clock, which the test's does not move, so it must outlast the test.
 */
const COOLDOWN_MS = 600_000;
const COOLDOWNS = {
  UPSTREAM_COOLDOWN_MS: String(COOLDOWN_MS),
  UPSTREAM_COOLDOWN_MAX_MS: String(2 * COOLDOWN_MS),
  UPSTREAM_COOLDOWN_WAIT_MS: '0',
};

/**
 * Cooldowns shared through Redis between real servers on one PostgreSQL database, on one clock the
 * test moves. A project has two keys, each on a mock upstream of its own, so each key's calls are
 * counted: `k` (500 to every request, until the test replaces it) and `ok`.
 */
describe('upstream key cooldowns shared through Redis', () => {
  const set = serversOnPostgres({ withRedis: true });
  const clock = manualClock();
  const servers: TestServer[] = [];
  const mocks: MockUpstream[] = [];
  const start = async () => {
    const s = await startTestServer({ ...set.base, ...COOLDOWNS }, clock.now);
    servers.push(s);
    return s;
  };
  const mock = async (opts: { port?: number; errorStatus?: number } = {}) => {
    const m = await startMockUpstream({ apiKey: UPSTREAM_KEY, ...opts });
    mocks.push(m);
    return m;
  };
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const m of mocks) await m.close();
  });

  it('reaches the other instances, and one started later; a success closes it everywhere; without Redis each keeps its own', async (ctx) => {
    if (!set.up) return ctx.skip();
    let k = await mock({ errorStatus: 500 });
    const kPort = Number(new URL(k.url).port);
    const ok = await mock();
    const a = await start();
    const b = await start();
    const project = await a.manage('POST', '/projects', {
      name: 'pool',
      api_key: UPSTREAM_KEY,
      base_url: `${k.url}/v1`,
    });
    expect(project.status).toBe(201);
    const twin = await a.manage('POST', `/projects/${project.body.id}/keys`, {
      name: 'ok',
      api_key: UPSTREAM_KEY,
      base_url: `${ok.url}/v1`,
    });
    expect(twin.status).toBe(201);
    const token = (await a.manage('POST', '/tokens', { project_id: project.body.id })).body.token as string;
    const statuses = async (s: TestServer, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await chat(s, token)).status);
      return out;
    };
    await eventually('both instances share cooldowns', async () =>
      (await Promise.all([a, b].map(sharingState))).every((x) => x.ok === 1),
    );

    // A meets k's 500 once (equal weights: 30 picks all missing k is 1 in 2^30), then skips it.
    const onA = await statuses(a, 30);
    expect(k.stats().requests).toBe(1);
    expect(onA.filter((s) => s !== 200)).toEqual([500]);
    // B hears of it and skips k without ever calling it.
    await eventually('B has the cooldown', async () => (await keysOf(b)).cooling === 1);
    expect(await statuses(b, 30)).toEqual(Array(30).fill(200));
    expect(k.stats().requests).toBe(1);

    // C starts after the failure: it reads the live cooldowns from Redis.
    const c = await start();
    await eventually('C has the cooldown', async () => (await keysOf(c)).cooling === 1);
    expect(await statuses(c, 30)).toEqual(Array(30).fill(200));
    expect(k.stats().requests).toBe(1);

    // k recovers; the cooldown ends: A's next request is k's trial, and succeeds.
    await k.close();
    k = await mock({ port: kPort });
    clock.advance(COOLDOWN_MS);
    for (const s of [a, b, c]) expect(await keysOf(s)).toEqual({ cooling: 0, half_open: 1 });
    expect(await statuses(a, 1)).toEqual([200]);
    expect(k.stats().requests).toBe(1);
    // Its success closes the cooldown on B and C too: no trial of their own is due.
    for (const s of [b, c]) {
      await eventually('the success closes the cooldown', async () => (await keysOf(s)).half_open === 0);
    }

    // Redis stops: each instance still serves, and keeps cooldowns of its own.
    await set.redis.kill();
    await k.close();
    k = await mock({ port: kPort, errorStatus: 500 });
    const downOnA = await statuses(a, 30);
    expect(downOnA.filter((s) => s !== 200)).toEqual([500]);
    expect(k.stats().requests).toBe(1);
    await eventually('A says sharing is failing', async () => (await sharingState(a)).failing === 1);
    expect(logLines(a, 'sharing a cooldown through Redis failed')).toBe(1);
    // B never heard of A's: it meets k's 500 itself, once, then skips it too.
    const downOnB = await statuses(b, 30);
    expect(downOnB.filter((s) => s !== 200)).toEqual([500]);
    expect(k.stats().requests).toBe(2);
  });
});
