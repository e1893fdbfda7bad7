import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { healthRoutes, type UsageHealth, WEDGED_AFTER_MS } from './health-routes.js';

/** The probes' verdicts for a given usage-writer state (the states themselves come from real failures in test/). */
async function probe(usage: UsageHealth) {
  const app = Fastify();
  await app.register(healthRoutes, {
    version: '1.2.3',
    checkReady: async () => {},
    usageHealth: () => usage,
    isShuttingDown: () => false,
    detail: () => ({ storeKind: 'postgres', usage: { ...usage, written: 5, dropped: 0 }, inFlight: 0, upstreams: [] }),
  });
  const ready = await app.inject('/ready');
  const health = await app.inject('/health');
  await app.close();
  return { ready: { status: ready.statusCode, body: ready.json() }, health: health.json() };
}

const fine: UsageHealth = {
  failing: undefined,
  writingForMs: 0,
  journaled: true,
  journalFailing: undefined,
  pending: 0,
};

describe('health probes', () => {
  it('are ready while a usage write runs, and not once it has run for WEDGED_AFTER_MS', async () => {
    expect((await probe({ ...fine, writingForMs: 1500 })).ready.status).toBe(200);
    const wedged = await probe({ ...fine, writingForMs: WEDGED_AFTER_MS + 1000, pending: 40 });
    expect(wedged.ready).toEqual({
      status: 503,
      body: {
        status: 'not_ready',
        checks: { database: 'ok', usage_writer: 'wedged: writing for 61 s', usage_journal: 'ok' },
        usage_pending: 40,
      },
    });
    expect(wedged.health).toMatchObject({ status: 'degraded', usage: { writer: 'wedged: writing for 61 s' } });
  });
});
