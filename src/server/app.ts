import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { type AdminUiOptions, adminUiRoutes } from '../admin/admin-routes.js';
import { errors } from '../errors.js';
import { type ManageOptions, manageApi } from '../manage/index.js';
import { traceFields } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { ProxyHandler } from '../proxy/handler.js';
import { REQUEST_ID_HEADER } from '../proxy/reply.js';
import { errorHandler } from './error-handler.js';
import { type HealthOptions, healthRoutes } from './health-routes.js';
import { answerUpgrades, expectsContinue } from './http-events.js';
import { createHttpServer, type Transport } from './http-server.js';
import { type MetricsRouteOptions, metricsRoutes } from './metrics-routes.js';

export interface AppOptions {
  logger: Logger;
  manageBodyLimitBytes: number;
  /** TRUST_PROXY: whose X-Forwarded-* headers set req.ip and req.protocol (the /v1 path never reads them). */
  trustProxy: boolean | string[];
  manage: ManageOptions;
  proxy: ProxyHandler;
  health: HealthOptions;
  metrics: MetricsRouteOptions;
  /** OpenTelemetry, when on: management requests get spans (manage-tracing.ts, loaded only then). */
  telemetry?: Telemetry | undefined;
  adminUi: AdminUiOptions;
  /** Plain HTTP (the default), cleartext HTTP/2 beside HTTP/1.1, or HTTPS (http-server.ts). */
  transport?: Transport;
}

/**
 * One HTTP server, one port: `/v1/*` goes straight from the server's request event to the proxy
 * handler (no framework work on the hot path); everything else (management API, health) goes
 * through Fastify (management API, health, the admin UI at /admin/). No listening here: main.ts owns the lifecycle.
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const serverFactory = (fastifyHandler: (req: never, res: never) => void, o: FastifyServerOptions): Server => {
    const server = createHttpServer(
      opts.transport ?? { kind: 'http' },
      (req, res) => {
        const waiting = expectsContinue(req);
        if (opts.proxy.matches(req.url)) opts.proxy.handle(req, res, waiting);
        else {
          // Management bodies are small and Fastify reads them on its own schedule: let them in now.
          if (waiting) res.writeContinue();
          fastifyHandler(req as never, res as never);
        }
      },
      // Fastify sets this only on servers it creates itself. Node's default (5 s) is barely above the
      // 4 s after which clients' pools drop idle connections, so a busy client can send a request on a
      // connection the server is closing at that moment (ECONNRESET); Fastify's 72 s is well clear of
      // clients and of load balancers' idle timeouts.
      o.keepAliveTimeout ?? 72_000,
    );
    // WebSocket upgrades (HTTP/1.1, plain or TLS): the Realtime API's, the rest refused (http-events.ts).
    answerUpgrades(server, (req, socket, head) => opts.proxy.upgrade(req, socket, head));
    return server;
  };
  const app = Fastify({
    serverFactory,
    // Typed as Fastify's base logger so the instance is a plain FastifyInstance.
    loggerInstance: opts.logger as FastifyBaseLogger,
    // One log line per request comes from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: opts.manageBodyLimitBytes,
    trustProxy: opts.trustProxy,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Let in-flight requests finish on close while idle keep-alive sockets are dropped at once.
    forceCloseConnections: 'idle',
    // Requests on already-open connections during a drain are served normally (and /ready says 503).
    return503OnClosing: false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    const err = errors.routeNotFound(req.method, req.url.split('?')[0] ?? req.url);
    return reply.code(err.status).headers(err.headers()).send(err.toBody());
  });

  const tracer = opts.telemetry?.tracer;
  const traceIds =
    opts.telemetry && tracer
      ? (await import('./manage-tracing.js')).traceManagement(app, opts.telemetry, tracer)
      : undefined;
  app.addHook('onRequest', async (req, reply) => {
    reply.header(REQUEST_ID_HEADER, req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        path: req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        ...traceFields(traceIds?.(req.raw)),
      },
      'request',
    );
  });

  await app.register(healthRoutes, opts.health);
  await app.register(metricsRoutes, opts.metrics);
  await app.register(manageApi, { ...opts.manage, prefix: '/manage' });
  await app.register(adminUiRoutes, opts.adminUi);
  return app;
}
