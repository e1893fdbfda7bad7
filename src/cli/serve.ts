import type { Config } from '../config/config.js';
import { type RunningServer, startServer } from '../main.js';
import { createLogger, flushLogger, type Logger } from '../observability/logger.js';
import { keepAliveUntil } from '../shared/keep-alive.js';
import { checkListenAddr, checkPaths, nameStartupError } from './startup-checks.js';

/** `llm-proxy serve`: runs until SIGINT/SIGTERM, then drains and exits 0. */
export async function serve(config: Config): Promise<void> {
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

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    // The whole sequence runs, to its last line, even where a step awaits only unref'd handles.
    keepAliveUntil(server.stop()).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last, so whoever waits for the banner can signal the process at once.
  process.stderr.write(banner(server, config));
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

function banner(server: RunningServer, config: Config): string {
  const { url, metricsUrl } = server;
  const secrets = server.runtime.secrets;
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
