import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import type { SqliteFacts } from '../store/sqlite-backup.js';
import { CliError } from './client.js';
import { io } from './io.js';

type ConfigFrom = (cmd: Command) => Config;

/**
 * `llm-proxy backup <file>` and `llm-proxy restore <file>`: SQLite only, since PostgreSQL has its
 * own tools (pg_dump must match the server's major version, and operators already run it, or their
 * provider's snapshots): on PostgreSQL both commands say which pg_dump or pg_restore line to run.
 * `storeFlags` adds --data-dir, --database-url and --config.
 */
export function backupCommands(program: Command, storeFlags: (c: Command) => Command, configFrom: ConfigFrom): void {
  storeFlags(
    program
      .command('backup <file>')
      .description(
        'write a consistent copy of the SQLite database to <file> while servers keep serving (PostgreSQL: prints the pg_dump command)',
      )
      .option('--force', 'replace <file> if it exists'),
  ).action(async (file: string, o: { force?: boolean }, cmd: Command) => {
    const config = configFrom(cmd);
    if (config.database.kind === 'postgres') throw new CliError(pgAdvice('backup', config.database.url, file));
    await backup(config, file, Boolean(o.force));
  });

  storeFlags(
    program
      .command('restore <file>')
      .description(
        'replace the SQLite database with a backup, once every server using it is stopped; the old database and usage journal are moved aside (PostgreSQL: prints the pg_restore command)',
      )
      .option('--check', 'only check the backup (an llm-proxy database this version can run, intact, keys decrypt)')
      .option(
        '--skip-key-check',
        'restore although the configured ENCRYPTION_KEY cannot decrypt the upstream keys (the key is lost: set them again)',
      ),
  ).action(async (file: string, o: { check?: boolean; skipKeyCheck?: boolean }, cmd: Command) => {
    const config = configFrom(cmd);
    if (config.database.kind === 'postgres') throw new CliError(pgAdvice('restore', config.database.url, file));
    await restore(config, file, { check: Boolean(o.check), skipKeyCheck: Boolean(o.skipKeyCheck) });
  });
}

async function backup(config: Config, file: string, force: boolean): Promise<void> {
  const source = sqlitePath(config);
  if (!existsSync(source)) throw new CliError(`no database at ${source}: nothing to back up (see --data-dir)`);
  const target = path.resolve(file);
  if (existsSync(target) && !force) throw new CliError(`${file} exists: give another file, or --force to replace it`);
  if (existsSync(target) && realpathSync(target) === realpathSync(source)) {
    throw new CliError(`${file} is the database itself`);
  }
  const { makeDir } = await import('../shared/make-dir.js');
  const { readFacts, snapshotSqlite } = await import('../store/sqlite-backup.js');
  makeDir(path.dirname(target), 0o700);
  try {
    snapshotSqlite(source, target, force);
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') throw new CliError(`${file} was created meanwhile: not replaced`);
    throw err;
  }
  const facts = readFacts(target, { integrity: false });
  const out = io().stdout;
  out.write(`backup written: ${target} (${size(facts.bytes)}), a consistent copy of ${source}\n`);
  out.write(describe(facts));
  out.write(`${keyReminder(config, facts)}\n`);
}

async function restore(config: Config, file: string, o: { check: boolean; skipKeyCheck: boolean }): Promise<void> {
  const { RestoreRefused, restoreSqlite } = await import('../maintenance/restore.js');
  const { readKeyring } = await import('../startup/secret-files.js');
  const database = sqlitePath(config);
  let report: ReturnType<typeof restoreSqlite>;
  try {
    report = restoreSqlite({
      backup: path.resolve(file),
      database,
      journalDir: journalDir(config),
      keyring: () => readKeyring(config),
      skipKeyCheck: o.skipKeyCheck,
      checkOnly: o.check,
      goneAfterMs: config.instances.goneAfterMs,
      now: Date.now(),
    });
  } catch (err) {
    if (err instanceof RestoreRefused) throw new CliError(`restore refused: ${err.message}`);
    throw err;
  }
  const out = io().stdout;
  out.write(`${path.resolve(file)}: an intact llm-proxy database (${size(report.facts.bytes)})\n`);
  out.write(describe(report.facts));
  const { decrypted, undecryptable } = report.keys;
  if (decrypted > 0) out.write(`upstream keys: ${decrypted} decrypt with the configured encryption key\n`);
  for (const k of undecryptable) {
    out.write(
      `upstream keys of ${k.projects.length} project(s) (key id ${k.keyId}) cannot be decrypted: ` +
        `set them again with llm-proxy project update <id> --api-key: ${k.projects.join(', ')}\n`,
    );
  }
  if (o.check) {
    out.write(`check only: ${database} was not changed\n`);
    return;
  }
  for (const [from, to] of report.moved) {
    const journal = from === journalDir(config);
    out.write(
      `moved aside: ${from} -> ${to}${journal ? ' (its usage records belong to the replaced database: not replayed into the restored one)' : ''}\n`,
    );
  }
  const { instances, leases } = report.forgotten;
  if (instances + leases > 0) {
    out.write(`forgot ${instances} instance row(s) and ${leases} lease(s) of the processes that served the backup\n`);
  }
  out.write(`restored: ${database}\n`);
  if (report.pending.length > 0) {
    out.write(`the next start applies this version's migrations ${report.pending.join(', ')} (AUTO_MIGRATE)\n`);
  }
}

/** runtime.ts's journalDir, without loading the whole runtime (the round-trip test checks they agree). */
const journalDir = (config: Config) => path.join(config.dataDir, 'journal');

function sqlitePath(config: Config): string {
  if (config.database.kind !== 'sqlite') throw new CliError('not a SQLite database');
  if (config.database.path === ':memory:')
    throw new CliError('the database is in memory: there is no file to back up or restore');
  return path.resolve(config.database.path);
}

function describe(facts: SqliteFacts): string {
  const last = facts.migrations.at(-1) ?? 'none';
  return (
    `schema: ${last} (${facts.migrations.length} migrations)\n` +
    `rows: ${facts.counts.map(([t, n]) => `${t} ${n}`).join(', ')}\n`
  );
}

/** Where the key the backup needs lives, and that it is not in the backup. */
function keyReminder(config: Config, facts: SqliteFacts): string {
  const ids = [...new Set(facts.projectKeys.map((p) => p.encrypted.split(':')[1]))].join(', ');
  const file = path.resolve(config.dataDir, 'encryption.key');
  const where = config.encryption.key
    ? 'it is the ENCRYPTION_KEY setting'
    : `it is the file ${file}${existsSync(file) ? '' : ' (not there yet: the first start writes it)'}`;
  const what =
    facts.projectKeys.length > 0
      ? `its ${facts.projectKeys.length} upstream key(s) (key id ${ids}) cannot be decrypted`
      : 'upstream keys added later could not be decrypted, nor the audit trail verified';
  return (
    `NOT in the backup: the encryption key, without which ${what}; ${where}. ` +
    'Keep a copy of it, apart from the backups.'
  );
}

/** The command to run instead on PostgreSQL, with the URL's user, host and database (never its password). */
function pgAdvice(command: 'backup' | 'restore', url: string, file: string): string {
  let safe = 'postgres://USER@HOST:5432/DATABASE';
  try {
    const u = new URL(url);
    safe = `postgres://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {}
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const line =
    command === 'backup'
      ? `pg_dump --format=custom --file=${q(file)} ${q(safe)}`
      : `pg_restore --clean --if-exists --no-owner --single-transaction --dbname=${q(safe)} ${q(file)}`;
  const more =
    command === 'backup'
      ? 'It is a consistent snapshot taken while servers keep serving.'
      : 'Stop every server first; then start them with the ENCRYPTION_KEY the backup was made with.';
  return (
    `${command} copies SQLite databases; this store is PostgreSQL. Use PostgreSQL's tools (the password ` +
    `from PGPASSWORD or ~/.pgpass):\n  ${line}\n${more} See docs/operations.md#backup-and-restore.`
  );
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
