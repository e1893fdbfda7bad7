import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_HEADERS } from '../../src/mock-upstream/options.js';
import { type Cluster, type Instance, startInstances } from '../helpers/instances.js';
import { chat, eventually, orLost } from '../helpers/scaleout.js';

/**
 * Issue #20: three instances sharing PostgreSQL and Redis, one of them a real `llm-proxy serve`
 * process SIGKILLed in the middle of a burst. The cap stays exact (what the dead instance admitted
 * counts), the sweeper in a surviving instance settles the dead one's reservations (charged their
 * estimate, as unfinished), and its journal, replayed when it starts again, writes the records of
 * what it had in flight: then Redis's settled spend equals the sum of the usage records.
 */

describe('three instances, one SIGKILLed mid-burst', () => {
  let c: Cluster | undefined;

  beforeAll(async () => {
    // Two in this process first (one of them takes the sweeper's lease), then the one that dies.
    // A one-minute reservation timeout: the sweeper runs every 15 s (a quarter of it) instead of
    // once a minute, and the burst below is long over before any reservation of it expires.
    c = await startInstances(3, { processes: 1, env: { RESERVATION_TIMEOUT_MS: '60000' } });
  });
  afterAll(() => c?.stop());

  it('caps stay exact, the sweeper settles its reservations, and its journal brings its records', async (ctx) => {
    if (!c) return ctx.skip();
    const cl = c;
    const [a, b, victim] = cl.instances as [Instance, Instance, Instance];
    const cap = 60;
    // max_concurrent never binds here; it makes Redis count in-flight slots, which a dead instance leaves taken.
    const t = await cl.issue({ max_requests: cap, max_concurrent: 1000, budget_usd: 10 });
    const send = (inst: Instance, hold: boolean) =>
      orLost(chat(inst, t.token, hold ? { [MOCK_HEADERS.hold]: '1' } : {}, { max_tokens: 100 }));

    // The burst: every admitted request waits at the upstream, the rest are refused at once.
    const burst = Array.from({ length: 150 }, (_, i) => send(cl.at(i), true));
    await eventually('every admitted request is at the upstream', () => cl.mock.stats().held === cap);
    // The sweeper runs in one instance, the holder of its lease: one that survives.
    const lease = await cl.query<{ holder: string }>("SELECT holder FROM leases WHERE name = 'redis-sweeper'");
    const sweeper = [a, b].find((i) => i.server?.server.runtime.instanceId === lease[0]?.holder);
    expect(sweeper).toBeDefined();

    await cl.kill(victim);
    // Its clients lose their connections; the survivors' requests go on to their answers.
    cl.mock.release();
    const answers = await Promise.all(burst);
    const ok = answers.filter((x) => x.status === 200).length;
    // What the dead instance had admitted: every admitted request reached the upstream.
    const inFlightAtDeath = cap - ok;
    expect(inFlightAtDeath).toBeGreaterThan(0);
    const lost = answers.filter((x) => x.status === 'connection lost').length;
    const refused = answers.filter((x) => x.status === 429);
    expect(refused.every((x) => 'code' in x && x.code === 'request_limit_reached')).toBe(true);
    expect({ lost: lost >= inFlightAtDeath, total: ok + lost + refused.length }).toEqual({ lost: true, total: 150 });

    // What the dead instance admitted still counts: the survivors let nothing more through.
    const after = await Promise.all(Array.from({ length: 30 }, (_, i) => send(cl.at(i), false)));
    expect(after.map((x) => x.status)).toEqual(Array(30).fill(429));
    const state = () => a.server?.server.runtime.limiter.inspect('token', t.id, t.projectId);
    expect((await state())?.requests).toBe(cap);
    // Its reservations are still held: in-flight slots and reserved budget.
    expect((await state())?.inFlight).toBe(inFlightAtDeath);
    expect((await state())?.budgets.total?.reservedNanoUsd).toBeGreaterThan(0);

    // Redis's clock cannot be moved: the dead instance's reservations are given a deadline already
    // past, as their timeout would be by then, and the sweeper's next run (within 15 s) settles them.
    const redis = createClient({ url: cl.redis.url });
    await redis.connect();
    try {
      const dl = (await redis.keys('llmp:v*:{p:*}:dl')).filter((k) => k.includes(t.projectId));
      expect(dl).toHaveLength(1);
      const ids = await redis.zRange(dl[0] as string, 0, -1);
      expect(ids).toHaveLength(inFlightAtDeath);
      await redis.zAdd(
        dl[0] as string,
        ids.map((value) => ({ score: 0, value })),
      );
    } finally {
      await redis.quit();
    }
    await eventually('the sweeper settles them', async () => ((await state())?.inFlight ?? 0) === 0);
    expect(sweeper?.server?.logs()).toContain('expired limiter reservations settled as unfinished');
    const settled = await state();
    expect(settled?.budgets.total?.reservedNanoUsd).toBe(0);

    // The dead instance starts again on its data directory: its journal writes what it had admitted.
    await cl.add('process', {}, victim.dataDir);
    await eventually('the replayed records', async () => (await cl.records(t.id)).length >= cap);
    const rows = await cl.records(t.id);
    expect(rows.length).toBe(cap);
    expect(rows.filter((r) => r.usage_status === 'unfinished').length).toBe(inFlightAtDeath);
    expect((await cl.manage('GET', `/tokens/${t.id}`)).body.request_count).toBe(cap);
    // Charged the same on both sides: the sweeper's estimate is the unfinished record's cost.
    const spent = rows.reduce((sum, r) => sum + (r.cost_nano_usd ?? 0), 0);
    expect(settled?.budgets.total?.spentNanoUsd).toBe(spent);
  });
});
