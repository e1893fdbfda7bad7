import type { Config } from '../config/config.js';
import { startServer } from '../main.js';
import { createLogger } from '../observability/logger.js';

/** `llm-proxy serve`: runs until SIGINT/SIGTERM, then drains and exits 0. */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.log);
  const server = await startServer(config, logger);
  process.stderr.write(banner(server.url, server.runtime.secrets, config));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function banner(
  url: string,
  secrets: { managementToken: string; tokenFile?: string; tokenGenerated: boolean },
  config: Config,
): string {
  const token = secrets.tokenGenerated
    ? `${secrets.managementToken}\n                    (generated now and saved to ${secrets.tokenFile}, mode 0600)`
    : secrets.tokenFile
      ? `stored in ${secrets.tokenFile}`
      : 'from MANAGEMENT_TOKEN';
  const db = config.database.kind === 'sqlite' ? config.database.path : 'PostgreSQL (DATABASE_URL)';
  return [
    '',
    '  llm-proxy is running',
    `  Proxy (base_url):  ${url}/v1`,
    `  Management API:    ${url}/manage   (spec: ${url}/manage/openapi.json)`,
    `  Health:            ${url}/health`,
    `  Database:          ${db}`,
    `  Management token:  ${token}`,
    '',
    '  Create a project and a token:',
    `    npx llm-proxy project create --name demo --api-key sk-...`,
    '    npx llm-proxy token create --project <project id> --duration-minutes 60',
    '  Stop with Ctrl-C.',
    '',
    '',
  ].join('\n');
}
