import type { FastifyInstance } from 'fastify';
import { forward, type ProxyDeps } from './forward.js';

/**
 * Mounts `/v1/*` for every method. Bodies are not parsed: a catch-all content-type parser leaves
 * the request stream untouched so it can be piped to the upstream as it arrives.
 */
export async function proxyRoutes(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/v1/*',
    handler: (req, reply) => {
      reply.hijack();
      return forward(req.raw, reply.raw, req.id, deps);
    },
  });
}
