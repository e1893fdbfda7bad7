import type { FastifyInstance } from 'fastify';
import { requireManagementToken } from '../manage/auth.js';

/** What /metrics renders: this process's registry, or under WORKERS the whole host's (cluster/). */
export interface MetricsText {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsRouteOptions {
  registry: MetricsText;
  /** Required as a bearer token; undefined on the separate METRICS_LISTEN_ADDR listener. */
  managementToken: string | undefined;
}

/** `GET /metrics`: Prometheus text of this process (of every worker under WORKERS). */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsRouteOptions): Promise<void> {
  const onRequest = opts.managementToken === undefined ? [] : [requireManagementToken(opts.managementToken)];
  app.get('/metrics', { onRequest, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
}
