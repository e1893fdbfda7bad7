import { afterEach, describe, expect, it } from 'vitest';
import { MOCK_HEADERS } from '../../src/mock-upstream/options.js';
import { REDIS_URL, testRedis } from '../helpers/limiters.js';
import { eventually, issue, proxyClient, serversOnPostgres } from '../helpers/scaleout.js';
import type { TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

/**
 * RESERVATION_TIMEOUT_MS bounds how long a request's reservation is held, on Redis and on the
 * database-counted limits alike: a request held at the upstream past it is settled as unfinished by
 * the sweeper (which runs every quarter of it) while it still runs, and its own settlement, when it
 * ends, corrects the charge to its actual use. With the default (15 minutes) nothing is swept here.
 */

describe('RESERVATION_TIMEOUT_MS', () => {
  const set = serversOnPostgres({ needs: () => serviceAvailable('redis'), env: { RESERVATION_TIMEOUT_MS: '2000' } });
  const { start } = set;
  afterEach(() => {
    if (set.up) set.mock.release();
  });

  const heldChat = (s: TestServer, token: string) =>
    proxyClient(s, token, { [MOCK_HEADERS.hold]: '1' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 100,
    });

  it('Redis: a request running past it is swept as unfinished (its slot freed), then its settlement corrects the charge', async (ctx) => {
    if (!set.up) return ctx.skip();
    const s = await start({ REDIS_URL });
    const t = await issue(s, { max_concurrent: 5, budget_usd: 10 });
    const state = () => s.server.runtime.limiter.inspect('token', t.id, t.projectId);
    const held = heldChat(s, t.token);
    await eventually('the request is at the upstream', () => set.mock.stats().held === 1);
    // Still running, past the timeout: the sweeper (every 500 ms) settles it at its estimate, its
    // max_concurrent slot given back.
    await eventually('the sweeper settles it', () =>
      s.logs().includes('expired limiter reservations settled as unfinished'),
    );
    const swept = await state();
    expect(swept?.inFlight).toBeUndefined();
    expect(swept?.budgets.total?.reservedNanoUsd).toBe(0);
    const estimate = swept?.budgets.total?.spentNanoUsd ?? 0;
    expect(estimate).toBeGreaterThan(0);
    expect(set.mock.release()).toBe(1);
    await held;
    await eventually('its settlement corrects the charge', async () => {
      const spent = (await state())?.budgets.total?.spentNanoUsd;
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
    if (!set.up) return ctx.skip();
    const s = await start({});
    expect(s.server.runtime.countedLimiter).toBeDefined();
    const t = await issue(s, { max_requests: 10, budget_usd: 10 });
    const reservations = async () =>
      Number(
        (
          await set.query<{ n: string }>('SELECT count(*) AS n FROM limit_reservations WHERE subject_id = $1', [t.id])
        )[0]?.n,
      );
    const held = heldChat(s, t.token);
    await eventually('the request is at the upstream', () => set.mock.stats().held === 1);
    await eventually('the sweeper settles it', () =>
      s.logs().includes('expired limit reservations settled as unfinished'),
    );
    expect(await reservations()).toBe(0);
    expect(set.mock.release()).toBe(1);
    await held;
  });
});
