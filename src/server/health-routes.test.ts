import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { SinkStatus } from '../shipping/shipping.js';
import { healthRoutes, type UsageHealth, WEDGED_AFTER_MS } from './health-routes.js';

/** The probes' verdicts for a given usage-writer state (the states themselves come from real failures in test/). */
async function probe(usage: UsageHealth, sinks: SinkStatus[] = [], shedding?: boolean) {
  const app = Fastify();
  await app.register(healthRoutes, {
    version: '1.2.3',
    checkReady: async () => {},
    usageHealth: () => usage,
    isShuttingDown: () => false,
    ...(shedding === undefined ? {} : { shedding: () => shedding }),
    detail: () => ({
      storeKind: 'postgres',
      usage: { ...usage, written: 5, dropped: 0 },
      inFlight: 0,
      load: { limit: 100, shedding: shedding === true, shed: shedding ? 7 : 0 },
      upstreams: [],
      sinks,
    }),
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
  spilled: 0,
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

  it('say degraded while a log-shipping sink fails, and stay ready', async () => {
    const sink: SinkStatus = {
      sink: 'webhook',
      queued: 12,
      spilledBytes: 7200,
      shipped: 3,
      retries: 4,
      deadLettered: 0,
      dropped: { queue_full: 0, spill_full: 0, spill_error: 0, dead_letter_error: 0, shutdown: 0 },
      lastError: 'HTTP 503',
      lastErrorAt: Date.UTC(2025, 5, 1, 12, 0, 3),
      lastSuccessAt: undefined,
    };
    const failing = await probe(fine, [sink]);
    expect(failing.ready.status).toBe(200);
    expect(failing.health).toMatchObject({
      status: 'degraded',
      sinks: {
        webhook: {
          queue_depth: 12,
          spilled_bytes: 7200,
          last_error: 'HTTP 503',
          last_error_at: '2025-06-01T12:00:03.000Z',
          last_success_at: null,
        },
      },
    });
    const recovered = await probe(fine, [
      { ...sink, lastError: undefined, lastSuccessAt: Date.UTC(2025, 5, 1, 12, 1) },
    ]);
    expect(recovered.health).toMatchObject({ status: 'ok', sinks: { webhook: { last_error: null } } });
  });

  it('are not ready while the instance sheds load, and ready once it has stopped', async () => {
    const shedding = await probe(fine, [], true);
    expect(shedding.ready).toEqual({
      status: 503,
      body: {
        status: 'not_ready',
        checks: { database: 'ok', usage_writer: 'ok', usage_journal: 'ok', load: 'shedding' },
        usage_pending: 0,
      },
    });
    expect(shedding.health).toMatchObject({ status: 'ok', load: { in_flight_limit: 100, shedding: true, shed: 7 } });
    const calm = await probe(fine, [], false);
    expect(calm.ready.status).toBe(200);
    expect(calm.ready.body.checks.load).toBe('ok');
  });
});
