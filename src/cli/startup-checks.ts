import { accessSync, constants, type Stats, statfsSync, statSync } from 'node:fs';
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
  // The migrator wraps the driver's error, its code on the cause; an error that has a code of its
  // own (the store's connect timeouts, said in the settings' terms) is taken as it is.
  const own = (err as { code?: unknown } | null)?.code !== undefined;
  const cause = own ? err : ((err as { cause?: unknown } | null)?.cause ?? err);
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

/** A path the configuration names: a directory or file llm-proxy creates or appends to, or a file it reads. */
interface PathSetting {
  setting: string;
  path: string;
  kind: 'dir' | 'file' | 'input';
}

/**
 * Kernel file systems (statfs magic numbers): their entries are the kernel's, a mkdir there fails,
 * on /proc with an ENOENT that sent Node's recursive mkdir into an endless loop.
 */
const KERNEL_FILE_SYSTEMS = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
]);

/** Every path-valued setting in force: DATA_DIR always; the others when set (their defaults lie in DATA_DIR). */
function pathSettings(config: Config): PathSetting[] {
  const list: PathSetting[] = [{ setting: 'DATA_DIR', path: config.dataDir, kind: 'dir' }];
  const inDataDir = (file: string) => path.dirname(file) === config.dataDir;
  const db = config.database;
  if (db.kind === 'sqlite' && db.path !== ':memory:' && !inDataDir(db.path)) {
    list.push({ setting: 'DATABASE_URL', path: db.path, kind: 'file' });
  }
  if (config.log.file) list.push({ setting: 'LOG_FILE', path: path.resolve(config.log.file), kind: 'file' });
  if (config.audit.file && !inDataDir(config.audit.file)) {
    list.push({ setting: 'AUDIT_LOG_FILE', path: config.audit.file, kind: 'file' });
  }
  if (config.shipping.file) list.push({ setting: 'SHIPPING_FILE', path: config.shipping.file, kind: 'file' });
  if (config.pricingFile) list.push({ setting: 'PRICING_FILE', path: path.resolve(config.pricingFile), kind: 'input' });
  return list;
}

/**
 * Checks every path setting before anything is created (no directory, file or database): each one
 * that could not be used stops the start, named, in one message. Only looks (stat, statfs, access):
 * whatever still fails later (a full disk, a race) is reported where it happens.
 */
export function checkPaths(config: Config): void {
  const problems = pathSettings(config).flatMap((p) => {
    const problem = pathProblem(p);
    return problem ? [`  ${p.setting}: ${problem}`] : [];
  });
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}

/** Why `p` cannot be used, or undefined. */
function pathProblem(p: PathSetting): string | undefined {
  const target = p.path;
  const existing = statOrMissing(target);
  if (typeof existing === 'string') return `cannot use ${target}: ${existing}`;
  if (existing) {
    if (p.kind === 'dir' && !existing.isDirectory()) return `${target} is not a directory`;
    if (p.kind !== 'dir' && existing.isDirectory()) return `${target} is a directory`;
    const kernel = kernelFileSystem(target);
    if (kernel && p.kind !== 'input') return `${target} is on a kernel file system (${kernel})`;
    const mode =
      p.kind === 'input' ? constants.R_OK : p.kind === 'dir' ? constants.W_OK | constants.X_OK : constants.W_OK;
    return accessProblem(target, mode, p.kind === 'input' ? 'readable' : 'writable');
  }
  if (p.kind === 'input') return `${target} does not exist`;
  // To be created: the nearest ancestor that exists must be a directory we may create entries in.
  let ancestor = path.dirname(target);
  for (;;) {
    const st = statOrMissing(ancestor);
    if (typeof st === 'string') return `cannot create ${target}: ${st}`;
    if (st) break;
    const parent = path.dirname(ancestor);
    if (parent === ancestor) return `cannot create ${target}: no existing directory above it`;
    ancestor = parent;
  }
  if (!statSync(ancestor).isDirectory()) return `cannot create ${target}: ${ancestor} is not a directory`;
  const kernel = kernelFileSystem(ancestor);
  if (kernel) return `cannot create ${target}: ${ancestor} is on a kernel file system (${kernel})`;
  const denied = accessProblem(ancestor, constants.W_OK | constants.X_OK, 'writable');
  return denied ? `cannot create ${target}: ${denied}` : undefined;
}

/**
 * The path's stats; undefined when it is not there (ENOTDIR too: a level above it is a file, which
 * the walk up in pathProblem finds and names); the error code when it cannot be looked at.
 */
function statOrMissing(p: string): Stats | undefined | string {
  try {
    return statSync(p);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    return e.code ?? e.message;
  }
}

function kernelFileSystem(p: string): string | undefined {
  try {
    return KERNEL_FILE_SYSTEMS.get(statfsSync(p).type);
  } catch {
    return undefined;
  }
}

function accessProblem(p: string, mode: number, what: string): string | undefined {
  try {
    accessSync(p, mode);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EROFS' ? `${p} is on a read-only file system` : `${p} is not ${what} (${code})`;
  }
}
