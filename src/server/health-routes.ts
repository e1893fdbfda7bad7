import type { FastifyInstance } from 'fastify';

export interface HealthOptions {
  version: string;
  /** Throws when a dependency (the database) cannot serve. */
  checkReady: () => Promise<void>;
  isShuttingDown: () => boolean;
}

/** Liveness says the process runs; readiness says it can serve (database reachable, not draining). */
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
    try {
      await opts.checkReady();
      return { status: 'ready', checks: { database: 'ok' } };
    } catch {
      return reply.code(503).send({ status: 'not_ready', checks: { database: 'unreachable' } });
    }
  });
}
