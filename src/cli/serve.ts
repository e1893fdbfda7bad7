import cluster from 'node:cluster';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { type RunningServer, startServer } from '../main.js';
import { createLogger, flushLogger, type Logger } from '../observability/logger.js';
import { loadTlsPair } from '../server/tls.js';
import { keepAliveUntil } from '../shared/keep-alive.js';
import type { Secrets } from '../startup/secret-files.js';
import { checkListenAddr, checkPaths, nameStartupError } from './startup-checks.js';

/** `llm-proxy serve`: runs until SIGINT/SIGTERM, then drains and exits 0. */
export async function serve(config: Config): Promise<void> {
  const refused = workersProblem(config);
  if (refused) throw new ConfigError(`Invalid configuration:\n  WORKERS: ${refused}`);
  if (config.workers > 1) return cluster.isPrimary ? servePrimary(config) : serveWorker(config);
  // Path settings are looked at, and settings that can only be checked by trying them are tried,
  // before anything is created: DATA_DIR, LOG_FILE, the store.
  checkPaths(config);
  await checkListenAddr(config.listen);
  const logger = createLogger(config.log);
  exitOnFatal(logger);
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    await flushLogger(logger);
    throw nameStartupError(err, config);
  }
  drainOnSignals(server, logger);
  reloadOnHangup(server);
  // Last, so whoever waits for the banner can signal the process at once.
  process.stderr.write(banner({ ...server, secrets: server.runtime.secrets }, config));
}

/**
 * Why WORKERS cannot be what it says, if so. Several processes each limiting in memory would let
 * a token with max_requests N make N per process, so they need Redis; an in-memory SQLite database
 * would be a different empty database in each.
 */
export function workersProblem(config: Config): string | undefined {
  if (config.workers <= 1) return undefined;
  if (!config.redis) {
    return (
      `${config.workers} worker processes need REDIS_URL: each would keep its own request caps, rates, ` +
      `concurrency and budgets, so a token with max_requests 100 could make ${config.workers * 100} requests. ` +
      'Set REDIS_URL, or leave WORKERS at 1.'
    );
  }
  if (config.database.kind === 'sqlite' && config.database.path === ':memory:') {
    return 'worker processes cannot share an in-memory SQLite database: use a file or PostgreSQL (DATABASE_URL).';
  }
  return undefined;
}

/**
 * The primary of WORKERS > 1: checks and prepares what the workers share (paths, the port, the
 * secret files, migrations) once, then forks them (src/cluster/primary.ts) and prints the banner
 * when all serve. Resolves once they do; the process exits when they have all stopped.
 */
async function servePrimary(config: Config): Promise<void> {
  checkPaths(config);
  await checkListenAddr(config.listen);
  // Once here, rather than once from every worker: a certificate or key that cannot be served.
  if (config.tls) loadTlsPair(config.tls);
  const { prepareDataDir, runPrimary } = await import('../cluster/primary.js');
  // Every process appends to the same stdout or LOG_FILE; worker 0 alone rotates LOG_FILE.
  const logger = createLogger({ ...config.log, rotation: undefined, shared: true, fields: { worker: 'primary' } });
  exitOnFatal(logger);
  let secrets: Secrets;
  try {
    secrets = await prepareDataDir(config, logger);
  } catch (err) {
    await flushLogger(logger);
    throw nameStartupError(err, config);
  }
  await new Promise<void>((resolve, reject) => {
    const running = runPrimary(config, logger, secrets, (started) => {
      process.stderr.write(banner(started, config, started.pids));
      resolve();
    });
    running.then(
      async () => {
        logger.info('llm-proxy stopped');
        await flushLogger(logger);
        process.exit(0);
      },
      async (err: unknown) => {
        await flushLogger(logger);
        reject(err);
      },
    );
  });
}

/** One worker of WORKERS > 1: learns its slot from the primary, then serves as a single process does. */
async function serveWorker(config: Config): Promise<void> {
  const { WorkerChannel } = await import('../cluster/worker.js');
  const channel = await WorkerChannel.open();
  const { slot } = channel.slot;
  const rotation = slot === 0 ? config.log.rotation : undefined;
  const logger = createLogger({ ...config.log, rotation, shared: true, fields: { worker: slot } });
  exitOnFatal(logger);
  let server: RunningServer;
  try {
    server = await startServer(config, logger, undefined, {
      slot: channel.slot,
      metrics: (local) => channel.hostMetrics(local),
    });
  } catch (err) {
    await flushLogger(logger);
    // The IPC channel would keep this process alive after the error is printed.
    setTimeout(() => process.exit(1), 0);
    throw nameStartupError(err, config);
  }
  const drain = drainOnSignals(server, logger);
  reloadOnHangup(server);
  channel.onShutdownRequest(() => drain('primary'));
  channel.ready(server.url, server.metricsUrl, server.adminUi);
}

/**
 * SIGINT/SIGTERM drain in-flight requests and exit 0; a second signal exits at once. Returns the
 * drain, for a shutdown asked for another way (a worker's primary), which is not counted as a signal.
 */
function drainOnSignals(server: RunningServer, logger: Logger): (why: string) => void {
  let draining = false;
  const drain = (why: string) => {
    if (draining) return;
    draining = true;
    logger.info({ signal: why }, 'shutting down: draining in-flight requests');
    // The whole sequence runs, to its last line, even where a step awaits only unref'd handles.
    keepAliveUntil(server.stop()).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    drain(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return drain;
}

/**
 * With TLS, SIGHUP reads the certificate and key again (certbot's and cert-manager's way to say
 * "renewed"); the result is logged. Without TLS nothing listens for it: it ends the process, as
 * a hangup does by default.
 */
function reloadOnHangup(server: RunningServer): void {
  const reload = server.reloadTls;
  if (reload) process.on('SIGHUP', () => reload());
}

/**
 * An error nothing caught ends the process, as Node would, but only once it and every line before
 * it are in the log: Node's own handler would exit with the last lines still being written.
 */
function exitOnFatal(logger: Logger): void {
  let fatal = false;
  const onFatal = (err: unknown) => {
    if (fatal) return;
    fatal = true;
    process.exitCode = 1;
    process.stderr.write(`llm-proxy: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    logger.fatal({ err }, 'uncaught error: exiting');
    // A sink that never finishes must not keep a broken process alive.
    setTimeout(() => process.exit(1), 5_000).unref();
    void flushLogger(logger).then(() => process.exit(1));
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
}

/** What the banner shows, from the server (or, under WORKERS, from the workers and the primary). */
interface Served {
  url: string;
  metricsUrl: string | undefined;
  adminUi: boolean;
  secrets: Secrets;
}

function banner(server: Served, config: Config, workerPids?: number[]): string {
  const { url, metricsUrl } = server;
  const secrets = server.secrets;
  const token = secrets.tokenGenerated
    ? `${secrets.managementToken}\n                    (generated now and saved to ${secrets.tokenFile}, mode 0600)`
    : secrets.tokenFile
      ? `stored in ${secrets.tokenFile}`
      : 'from MANAGEMENT_TOKEN';
  const db = config.database.kind === 'sqlite' ? config.database.path : 'PostgreSQL (DATABASE_URL)';
  return [
    '',
    '  llm-proxy is running',
    ...listenNotice(config.listen.host, Number(new URL(url).port)),
    `  Proxy (base_url):  ${url}/v1`,
    server.adminUi
      ? `  Admin UI:          ${url}/admin/   (sign in with the management token below, or a user: llm-proxy admin-user add)`
      : '  Admin UI:          not built (run npm run build)',
    `  Management API:    ${url}/manage   (spec: ${url}/manage/openapi.json)`,
    `  Health:            ${url}/health`,
    `  Metrics:           ${metricsUrl ?? `${url}/metrics   (with the management token)`}`,
    `  Database:          ${db}`,
    ...(workerPids
      ? [`  Workers:           ${workerPids.length} processes on this port (pids ${workerPids.join(', ')})`]
      : []),
    `  Management token:  ${token}`,
    '',
    '  Create a project and a token in the admin UI, or here:',
    `    npx llm-proxy project create --name demo --api-key sk-...`,
    '    npx llm-proxy token create --project <project id> --duration-minutes 60',
    '  Stop with Ctrl-C.',
    '',
    '',
  ].join('\n');
}

/**
 * The default LISTEN_ADDR (`:8080`) binds every network interface, so other machines can reach the
 * admin UI and the management API from the first start: the banner says so, and how to bind to
 * this machine only. Nothing is said for a specific address: whoever set it chose it.
 */
export function listenNotice(host: string, port: number): string[] {
  if (!['0.0.0.0', '::', ''].includes(host)) return [];
  return [
    `  Listening on:      every network interface, port ${port}: other machines can reach the proxy, admin UI and management API`,
    `                     (this machine only: start with LISTEN_ADDR=127.0.0.1:${port})`,
  ];
}
