import net from 'node:net';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { isStoreOutage } from '../store/store-errors.js';

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
};

/**
 * Binds LISTEN_ADDR once and lets go, before the store or DATA_DIR is touched: an address that
 * cannot be listened on stops the start naming the setting, rather than after the database and
 * secret files were created.
 */
export async function checkListenAddr(listen: Config['listen']): Promise<void> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host: listen.host, port: listen.port, exclusive: true }, resolve);
    });
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    throw new ConfigError(
      `Invalid configuration:\n  LISTEN_ADDR: cannot listen on ${listen.host}:${listen.port}: ${LISTEN_PROBLEMS[code] ?? (err as Error).message}`,
    );
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** PostgreSQL codes of a connection refused for its credentials or database name. */
const PG_LOGIN_CODES = new Set(['28000', '28P01', '3D000']);

/**
 * A database that cannot be reached or opened at start-up is a configuration problem: the message
 * names DATABASE_URL (or DATA_DIR, where the default SQLite file lives), never the URL itself (it may
 * hold a password), instead of a bare socket or file error.
 */
export function nameStartupError(err: unknown, config: Config): unknown {
  if (err instanceof ConfigError) return err;
  // The migrator wraps the driver's error; its code is on the cause.
  const cause = (err as { cause?: unknown } | null)?.cause ?? err;
  const code = String((cause as { code?: unknown } | null)?.code ?? '');
  const down =
    isStoreOutage(cause) ||
    PG_LOGIN_CODES.has(code) ||
    ['ENOTFOUND', 'ENOENT', 'ENOTDIR', 'EEXIST', 'EACCES', 'EROFS'].includes(code);
  if (!down) return err;
  const detail = (cause as Error).message || code;
  if (config.database.kind === 'postgres') {
    return new ConfigError(`Invalid configuration:\n  DATABASE_URL: cannot connect to PostgreSQL: ${detail}`);
  }
  const inDataDir = config.database.path === path.join(config.dataDir, 'llm-proxy.db');
  const setting = inDataDir ? 'DATA_DIR' : 'DATABASE_URL';
  return new ConfigError(
    `Invalid configuration:\n  ${setting}: cannot open the SQLite database ${config.database.path}: ${detail}`,
  );
}
