import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { requireManagementToken } from '../manage/auth.js';

export interface MetricsRouteOptions {
  registry: Registry;
  /** Required as a bearer token; undefined on the separate METRICS_LISTEN_ADDR listener. */
  managementToken: string | undefined;
}

/** `GET /metrics`: Prometheus text of this process. */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsRouteOptions): Promise<void> {
  const onRequest = opts.managementToken === undefined ? [] : [requireManagementToken(opts.managementToken)];
  app.get('/metrics', { onRequest, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
}
