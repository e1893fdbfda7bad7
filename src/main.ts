import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { createAccessLog } from './observability/access-log.js';
import { createLogger, flushLogger, type Logger } from './observability/logger.js';
import { BodyIdleWatch } from './proxy/body-idle.js';
import { createProxyHandler, type ProxyHandler } from './proxy/handler.js';
import { createRuntime, type Runtime } from './runtime.js';
import { buildApp } from './server/app.js';
import { trackConnections } from './server/connections.js';
import type { Clock } from './shared/clock.js';
import { pingDatabase } from './store/database.js';
import { VERSION } from './version.js';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  runtime: Runtime;
  /** The proxy's request handler (attach metrics or tracing hooks to it). */
  proxy: ProxyHandler;
  /** Stops accepting, lets in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), closes the store. */
  stop(): Promise<void>;
}

/** The HTTP app over a runtime, without listening (also used to export the OpenAPI spec). */
export async function createApp(
  runtime: Runtime,
  isShuttingDown: () => boolean,
): Promise<{ app: FastifyInstance; proxy: ProxyHandler }> {
  const { config, logger } = runtime;
  const proxy = createProxyHandler({
    authenticator: runtime.authenticator,
    limiter: runtime.limiter,
    pricing: runtime.pricing,
    pools: runtime.pools,
    bodyIdle: new BodyIdleWatch(config.proxy.requestBodyIdleTimeoutMs),
    admitUsage: (a, dispatch) => runtime.usage.admitted(a, dispatch),
    recordUsage: (rec, admission) => runtime.usage.record(rec, admission),
    logger,
    accessLog: createAccessLog(logger),
    bodyLimitBytes: config.proxy.bodyLimitBytes,
    streamIncludeUsage: config.proxy.streamIncludeUsage,
    now: runtime.clock,
  });
  const app = await buildApp({
    logger,
    manageBodyLimitBytes: config.manage.bodyLimitBytes,
    manage: {
      managementToken: runtime.secrets.managementToken,
      rateLimitPerMinute: config.manage.rateLimitPerMinute,
      version: VERSION,
      projects: runtime.projects,
      tokens: runtime.tokens,
      usage: runtime.usageStats,
      pricing: runtime.pricingService,
    },
    proxy,
    health: {
      version: VERSION,
      checkReady: () => pingDatabase(runtime.db),
      usageHealth: () => runtime.usage.health(),
      isShuttingDown,
    },
  });
  return { app, proxy };
}

/** Composition root: config → logger → store → services → HTTP server. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.log),
  clock?: Clock,
): Promise<RunningServer> {
  // The server journals usage accounting and replays what a crashed predecessor left, before it listens.
  const runtime = await createRuntime(config, logger, { journal: true, clock });
  let shuttingDown = false;
  let app: FastifyInstance;
  let proxy: ProxyHandler;
  let connections: ReturnType<typeof trackConnections>;
  try {
    ({ app, proxy } = await createApp(runtime, () => shuttingDown));
    connections = trackConnections(app.server);
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    await runtime.close();
    throw err;
  }

  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  const host = ['0.0.0.0', '::', ''].includes(config.listen.host) ? 'localhost' : config.listen.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, version: VERSION, database: config.database.kind }, 'llm-proxy listening');
  // Usage retention and token cleanup (MAINTENANCE_INTERVAL_MS; 0 = off). Stopped in runtime.close().
  runtime.maintenance.start();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      const deadline = setTimeout(() => {
        logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline reached: closing open connections');
        app.server.closeAllConnections();
        void runtime.pools.destroy();
      }, config.shutdownTimeoutMs);
      deadline.unref();
      // Keep-alive sockets turn idle as in-flight responses finish; close them as they do, rather
      // than waiting for the keep-alive timeout.
      const reaper = setInterval(() => connections.closeIdle(), 100);
      try {
        await runtime.maintenance.stop();
        await app.close();
        // Exchanges cut at the deadline still write their usage record before the writer closes.
        await proxy.drain(1_000);
      } finally {
        clearTimeout(deadline);
        clearInterval(reaper);
        await runtime.close();
        logger.info('llm-proxy stopped');
        await flushLogger(logger);
      }
    })();
    return stopping;
  };
  return { url, app, runtime, proxy, stop };
}
