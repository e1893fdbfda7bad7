import type { FastifyInstance } from 'fastify';

export interface UsageHealth {
  /** Set while the last usage write to the store failed (a short, safe description). */
  failing: string | undefined;
  /** Whether admitted requests are journaled (the server: yes; one-shot commands: no). */
  journaled: boolean;
  /** Set while the last write to the crash journal failed. */
  journalFailing: string | undefined;
  /** Usage records waiting in memory for the store. */
  pending: number;
}

export interface HealthOptions {
  version: string;
  /** Throws when a dependency (the database) cannot serve. */
  checkReady: () => Promise<void>;
  /** The usage writer's state: an instance whose accounting cannot be written is not ready. */
  usageHealth: () => UsageHealth;
  isShuttingDown: () => boolean;
}

/**
 * Liveness says the process runs; readiness says it can serve: database reachable, usage
 * accounting being written (store and journal), not draining.
 */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  const started = Date.now();
  app.get('/health', async () => ({
    status: 'ok',
    version: opts.version,
    uptime_seconds: Math.round((Date.now() - started) / 1000),
  }));
  app.get('/live', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    if (opts.isShuttingDown()) return reply.code(503).send({ status: 'shutting_down' });
    let database = 'ok';
    try {
      await opts.checkReady();
    } catch {
      database = 'unreachable';
    }
    const usage = opts.usageHealth();
    const checks = {
      database,
      usage_writer: usage.failing === undefined ? 'ok' : `failing: ${usage.failing}`,
      usage_journal: !usage.journaled
        ? 'off'
        : usage.journalFailing === undefined
          ? 'ok'
          : `failing: ${usage.journalFailing}`,
    };
    const ready = database === 'ok' && usage.failing === undefined && usage.journalFailing === undefined;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', checks, usage_pending: usage.pending });
  });
}
