import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { DEFAULT_UI_DIR, loadUiFiles } from './admin/ui-files.js';
import type { Config } from './config/config.js';
import { createAccessLog } from './observability/access-log.js';
import { createLogger, flushLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { startTelemetry, type Telemetry } from './observability/telemetry.js';
import { auditHooks } from './proxy/audit-hooks.js';
import { BodyMemory } from './proxy/body-memory.js';
import { BodyWatch, serverRequestTimeoutMs } from './proxy/body-watch.js';
import { MemoryCacheStore } from './proxy/cache/cache-store.js';
import { createProxyHandler, type ProxyHandler } from './proxy/handler.js';
import { KeyLoad } from './proxy/key-load.js';
import { metricsHooks } from './proxy/metrics-hooks.js';
import { Retries } from './proxy/retry-policy.js';
import { createRuntime, type Runtime } from './runtime.js';
import { buildApp } from './server/app.js';
import { trackConnections } from './server/connections.js';
import type { LimiterView } from './server/health-routes.js';
import { LISTEN_BACKLOG, type Transport } from './server/http-server.js';
import { type MetricsText, metricsRoutes } from './server/metrics-routes.js';
import { type CertificateInfo, certificateFields, loadTlsPair } from './server/tls.js';
import { CertificateReloader, warnIfOutOfDate } from './server/tls-reload.js';
import type { Clock } from './shared/clock.js';
import type { WorkerSlot } from './shared/worker-dirs.js';
import { pingDatabase } from './store/database.js';
import { VERSION } from './version.js';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  runtime: Runtime;
  /** Where the separate metrics listener (METRICS_LISTEN_ADDR) serves, if one was asked for. */
  metricsUrl: string | undefined;
  /** The proxy's request handler (attach metrics or tracing hooks to it). */
  proxy: ProxyHandler;
  /** Whether the admin UI was built (dist/web/) and is served at /admin/. */
  adminUi: boolean;
  /** Reads TLS_CERT_FILE and TLS_KEY_FILE again and serves them if good (SIGHUP); undefined without TLS. */
  reloadTls: (() => boolean) | undefined;
  /** Stops accepting, lets in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), closes the store. */
  stop(): Promise<void>;
}

/** How the server's port speaks (http-server.ts), and the certificate it serves now, if any. */
export interface Served {
  transport: Transport;
  certificate(): CertificateInfo | undefined;
}

/** The HTTP app over a runtime, without listening (also used to export the OpenAPI spec). */
export async function createApp(
  runtime: Runtime,
  isShuttingDown: () => boolean,
  telemetry?: Telemetry,
  hostMetrics?: WorkerOptions['metrics'],
  served: Served = { transport: { kind: 'http' }, certificate: () => undefined },
): Promise<{ app: FastifyInstance; proxy: ProxyHandler; metrics: Metrics; adminUi: boolean }> {
  const { config, logger } = runtime;
  const uiFiles = loadUiFiles(DEFAULT_UI_DIR);
  const bodyMemory = new BodyMemory(config.proxy.bodyMemory.limitBytes, config.proxy.bodyMemory.sharePercent);
  const { keyHealth, sharedCooldowns } = runtime;
  const keyLoad = new KeyLoad(config.proxy.balance, runtime.clock);
  const retries = new Retries(config.proxy.retry, runtime.clock);
  const proxy = createProxyHandler({
    authenticator: runtime.authenticator,
    limiter: runtime.limiter,
    pricing: runtime.pricing,
    pools: runtime.pools,
    keyHealth,
    keyLoad,
    retries,
    bodyWatch: new BodyWatch(config.proxy.requestBodyIdleTimeoutMs, config.proxy.requestBodyTimeoutMs),
    bodyMemory,
    admitUsage: (a, dispatch) => runtime.usage.admitted(a, dispatch),
    recordUsage: (rec, admission) => runtime.usage.record(rec, admission),
    logger,
    accessLog: createAccessLog(logger, { sampleRate: config.accessLog.sampleRate }),
    logBodyMaxBytes: config.accessLog.bodies ? config.accessLog.bodyMaxBytes : 0,
    bodyLimitBytes: config.proxy.bodyLimitBytes,
    maxInFlight: config.proxy.maxInFlight,
    streamIncludeUsage: config.proxy.streamIncludeUsage,
    idempotency: runtime.idempotency,
    cache: runtime.responseCache,
    now: runtime.clock,
    jobs: runtime.jobs,
  });
  const metrics = new Metrics(config.metrics, {
    inFlight: () => proxy.inFlight,
    shedding: () => proxy.shedder.shedding,
    usagePending: () => runtime.usage.pending,
    usageWritten: () => runtime.usage.written,
    usageDropped: () => runtime.usage.dropped,
    usageBatches: () => runtime.usage.batches,
    usageRetries: () => runtime.usage.retries,
    upstreams: () => runtime.pools.stats(),
    keyCooldowns: () => keyHealth.counts(),
    keyLoad: () => ({ ...keyLoad.counts(), headroomSkips: keyLoad.headroomSkips }),
    retries: () => retries.byReason(),
    retryBudgetExhausted: () => retries.budget.exhausted,
    cooldownSharing: sharedCooldowns && (() => sharedCooldowns.state),
    idempotency: () => runtime.idempotency,
    tokenCache: () => runtime.authenticator,
    budgets: () => runtime.limiter.budgetUse(),
    shipping: () => runtime.shipping?.status() ?? [],
    bodyBytesHeld: () => bodyMemory.held,
    changeFeed: () => runtime.changes.state(),
    limiter: () => ({ state: 'ok', ...limiterView(runtime) }),
    limiterDrift: () => runtime.sharedLimiter?.drift(),
    responseCache: () => {
      const store = runtime.responseCache.store;
      const memory = store instanceof MemoryCacheStore ? store : undefined;
      return { counts: runtime.responseCache.counts, bytes: memory?.bytes, entries: memory?.entries };
    },
    tlsCertificate: served.certificate,
    realtime: () => ({ ...proxy.realtime.stats, buffered: proxy.realtime.buffered() }),
    jobs: () => ({ states: runtime.jobs.counts, polls: runtime.jobs.polls }),
  });
  proxy.realtime.onSessionEnd = (_rec, seconds) => metrics.realtimeSessionEnded(seconds);
  runtime.jobs.onRecorded = (rec) => metrics.jobRecorded(rec);
  runtime.changes.onApplied((lag, via) => metrics.changeApplied(lag, via));
  proxy.attach(metricsHooks(metrics));
  // Refused requests summarised in the audit trail; with AUDIT_REFUSED_REQUESTS=false no hook at all.
  if (config.audit.refusedRequests) proxy.attach(auditHooks(runtime.audit.refusals, runtime.clock));
  const shipping = runtime.shipping;
  // Only with a sink configured: otherwise the request path has no hook to call.
  if (shipping)
    proxy.attach({ end: (_pr, rec) => shipping.enqueue(rec), realtime: (_s, rec) => shipping.enqueue(rec) });
  // Loaded and attached only when OpenTelemetry is on: with it off the request path has no such hook.
  if (telemetry) proxy.attach((await import('./proxy/telemetry-hooks.js')).telemetryHooks(telemetry));
  const app = await buildApp({
    logger,
    manageBodyLimitBytes: config.manage.bodyLimitBytes,
    trustProxy: config.trustProxy,
    manage: {
      managementToken: runtime.secrets.managementToken,
      rateLimitPerMinute: config.manage.rateLimitPerMinute,
      version: VERSION,
      projects: runtime.projects,
      projectKeys: runtime.projectKeys,
      keyCooldowns: (keyId) => keyHealth.cooldownsOf(keyId),
      tokens: runtime.tokens,
      usage: runtime.usageStats,
      pricing: runtime.pricingService,
      audit: runtime.audit,
      access: runtime.access,
      instances: runtime.instances,
      purgeCache: (projectId) => runtime.responseCache.purge(projectId),
    },
    proxy,
    health: {
      version: VERSION,
      detail: () => ({
        storeKind: config.database.kind,
        usage: { ...runtime.usage.health(), written: runtime.usage.written, dropped: runtime.usage.dropped },
        inFlight: proxy.inFlight,
        load: { limit: proxy.shedder.limit, shedding: proxy.shedder.shedding, shed: proxy.shedder.shed },
        upstreams: runtime.pools.stats(),
        keyCooldowns: keyHealth.counts(),
        sinks: runtime.shipping?.status() ?? [],
        changes: runtime.changes.health(),
      }),
      checkReady: () => pingDatabase(runtime.db),
      limiter: () => limiterView(runtime),
      instances: () => runtime.instances.summary(),
      usageHealth: () => runtime.usage.health(),
      shedding: () => proxy.shedder.shedding,
      isShuttingDown,
    },
    metrics: {
      registry: hostMetrics ? hostMetrics(metrics.registry) : metrics.registry,
      managementToken: runtime.secrets.managementToken,
    },
    telemetry,
    adminUi: { files: uiFiles },
    transport: served.transport,
  });
  // PROXY_BODY_TIMEOUT_MS, not Node's own request timeout, is what ends a slow /v1 body.
  app.server.requestTimeout = serverRequestTimeoutMs(config.proxy.requestBodyTimeoutMs, app.server.headersTimeout);
  return { app, proxy, metrics, adminUi: uiFiles !== undefined };
}

/** How a worker under WORKERS > 1 differs (src/cluster/): its slot, and /metrics for the whole host. */
export interface WorkerOptions {
  slot: WorkerSlot;
  /** What /metrics serves, given this process's own registry. */
  metrics(local: Registry): MetricsText;
}

/** Composition root: config → logger → store → services → HTTP server. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.log),
  clock?: Clock,
  worker?: WorkerOptions,
): Promise<RunningServer> {
  // Before anything is created: a certificate or key that cannot be served stops the start, named.
  const tlsPair = config.tls ? loadTlsPair(config.tls) : undefined;
  // The server journals usage accounting and replays what a crashed predecessor left, before it listens.
  const runtime = await createRuntime(config, logger, { journal: true, shipping: true, clock, worker: worker?.slot });
  // Follows the change log before the first request: other instances' revocations reach this cache.
  runtime.changes.start();
  // Other instances' upstream key cooldowns, live ones read once subscribed (with REDIS_URL).
  runtime.sharedCooldowns?.start();
  let shuttingDown = false;
  let app: FastifyInstance | undefined;
  let proxy: ProxyHandler;
  let connections: ReturnType<typeof trackConnections>;
  let metricsApp: FastifyInstance | undefined;
  let telemetry: Telemetry | undefined;
  let adminUi: boolean;
  let reloader: CertificateReloader | undefined;
  const transport: Transport = tlsPair
    ? { kind: 'tls', pair: tlsPair, servers: [] }
    : config.http2Cleartext
      ? { kind: 'h2c' }
      : { kind: 'http' };
  try {
    telemetry = await startTelemetry(config.telemetry, logger, { maxLabelValues: config.metrics.maxLabelValues });
    let metrics: Metrics;
    const certificate = () => reloader?.current ?? tlsPair?.info;
    ({ app, proxy, metrics, adminUi } = await createApp(runtime, () => shuttingDown, telemetry, worker?.metrics, {
      transport,
      certificate,
    }));
    connections = trackConnections(app.server);
    await app.listen({ host: config.listen.host, port: config.listen.port, backlog: LISTEN_BACKLOG });
    if (transport.kind === 'tls' && config.tls) {
      reloader = new CertificateReloader(transport, config.tls, logger);
      reloader.watch();
    }
    if (config.metrics.listen) {
      // Only /metrics, without the management token: for a network that only the scraper reaches.
      metricsApp = Fastify({ logger: false });
      const registry = worker ? worker.metrics(metrics.registry) : metrics.registry;
      await metricsApp.register(metricsRoutes, { registry, managementToken: undefined });
      await metricsApp.listen({ host: config.metrics.listen.host, port: config.metrics.listen.port });
    }
  } catch (err) {
    await metricsApp?.close();
    await app?.close();
    await telemetry?.shutdown();
    await runtime.close();
    throw err;
  }

  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  const host = ['0.0.0.0', '::', ''].includes(config.listen.host) ? 'localhost' : config.listen.host;
  const url = `${tlsPair ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const metricsAddr = metricsApp?.server.address();
  const metricsUrl =
    metricsAddr && typeof metricsAddr === 'object'
      ? `http://${metricsAddr.address}:${metricsAddr.port}/metrics`
      : undefined;
  logger.info({ url, metrics: metricsUrl, version: VERSION, database: config.database.kind }, 'llm-proxy listening');
  if (tlsPair) {
    logger.info({ reason: 'start', ...certificateFields(tlsPair.info) }, 'TLS certificate loaded');
    warnIfOutOfDate(tlsPair.info, logger);
  }
  if (telemetry) {
    const { traces, metrics, protocol } = config.telemetry;
    logger.info({ traces: traces?.url, metrics: metrics?.url, protocol }, 'OpenTelemetry export on');
  }
  // Usage retention and token cleanup (MAINTENANCE_INTERVAL_MS; 0 = off). Stopped in runtime.close().
  runtime.maintenance.start();
  runtime.jobs.start();
  // Expired reservations of the Redis limiter, in the instance holding its lease.
  runtime.sharedLimiter?.startSweeper();
  // Expired reservations of caps and lifetime budgets counted in PostgreSQL (no Redis), likewise.
  runtime.countedLimiter?.startSweeper();
  // This process's row in the instances registry (in flight read from the proxy's own counter).
  runtime.heartbeat.start({ listen: url, inFlight: () => proxy.inFlight });
  if (config.audit.refusedRequests) runtime.audit.start();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // /ready answers 503 from now on, and every HTTP/1.1 response closes its connection.
      shuttingDown = true;
      connections.retire();
      reloader?.close();
      // Other instances list this one as draining; its row is deleted in runtime.close().
      void runtime.heartbeat.drain();
      if (config.shutdownDelayMs > 0) {
        // Still serving everything while load balancers and endpoint lists stop sending here.
        logger.info({ delayMs: config.shutdownDelayMs }, 'shutdown delay: not ready, still serving');
        await sleep(config.shutdownDelayMs);
      }
      const began = performance.now();
      // Realtime sessions never end on their own: each closes with 1001 once its response in
      // progress is done (at once when none is), at the deadline whatever it is doing.
      proxy.realtime.drain();
      const deadline = setTimeout(() => {
        logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline reached: closing open connections');
        proxy.realtime.closeAll();
        app.server.closeAllConnections();
        void runtime.pools.destroy();
      }, config.shutdownTimeoutMs);
      deadline.unref();
      // Keep-alive sockets turn idle as in-flight responses finish: closed once idle for
      // SHUTDOWN_IDLE_TIMEOUT_MS (0: at once), unless their client closes them first.
      const closeIdle = () => connections.closeIdle(config.shutdownIdleTimeoutMs);
      const reaper = setInterval(closeIdle, 100);
      try {
        const drained = stopListening(app.server);
        closeIdle();
        await runtime.maintenance.stop();
        await runtime.jobs.stop();
        await drained;
        await app.close();
        await metricsApp?.close();
        // Exchanges cut at the deadline still write their usage record before the writer closes.
        await proxy.drain(1_000);
        // Usage events get what is left of SHUTDOWN_TIMEOUT_MS; what they cannot deliver is spilled.
        await runtime.shipping?.close(Math.max(0, config.shutdownTimeoutMs - (performance.now() - began)));
      } finally {
        clearTimeout(deadline);
        clearInterval(reaper);
        // The last requests' spans and a final metrics collection go out (bounded by OTEL_EXPORTER_OTLP_TIMEOUT).
        await telemetry?.shutdown().catch((err: unknown) => {
          logger.warn({ err: (err as Error).message }, 'OpenTelemetry shutdown failed');
        });
        await runtime.close();
        logger.info('llm-proxy stopped');
        await flushLogger(logger);
      }
    })();
    return stopping;
  };
  const tls = reloader;
  const reloadTls = tls ? () => tls.reload('SIGHUP') : undefined;
  return { url, metricsUrl, app, runtime, proxy, adminUi, reloadTls, stop };
}

/**
 * Closes the listening socket and resolves once every connection has closed. Not http.Server's
 * close(), which also closes idle keep-alive connections at once: a load balancer may be sending a
 * request on one at that instant (a 502 for a POST it must not retry).
 */
function stopListening(server: Server): Promise<void> {
  return new Promise((resolve) => NetServer.prototype.close.call(server, () => resolve()));
}

/** Which limiter decides this instance's limits, and (Redis) its state, for /health and /metrics. */
function limiterView(runtime: Runtime): LimiterView {
  return runtime.sharedLimiter?.health() ?? { backend: runtime.countedLimiter ? 'database' : 'memory' };
}
