import { Command, CommanderError } from 'commander';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { VERSION } from '../version.js';
import { adminUserCommands, type WithRuntime } from './admin-user-commands.js';
import { auditCommand, verifyAudit } from './audit-commands.js';
import { backupCommands } from './backup-commands.js';
import { benchCommand } from './bench-command.js';
import { CliError } from './client.js';
import { chatCommand, mockUpstreamCommand } from './dev-commands.js';
import { instancesCommand } from './instances-command.js';
import { type CliIo, io, stderrIsProcess, withIo } from './io.js';
import { logsCommand } from './logs-command.js';
import { pricingCommands, projectCommands, recordsCommand, tokenCommands, usageCommand } from './manage-commands.js';

/** Flags shared by commands that open the store themselves; each maps to a setting. */
function storeFlags(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (DATA_DIR)')
    .option('--database-url <url>', 'sqlite:<path> or postgres://… (DATABASE_URL)')
    .option('--config <file>', 'JSON file of settings (CONFIG_FILE)');
}

type StoreOpts = { listen?: string; dataDir?: string; databaseUrl?: string; config?: string };

function configFrom(cmd: Command, extra: Record<string, unknown> = {}): Config {
  const o = cmd.opts<StoreOpts>();
  return loadConfig(
    {
      LISTEN_ADDR: o.listen,
      DATA_DIR: o.dataDir,
      DATABASE_URL: o.databaseUrl,
      CONFIG_FILE: o.config,
      ...extra,
    },
    io().env,
  );
}

/** Opens the store through `open`, naming DATABASE_URL when the database cannot be reached. */
async function opened<T>(config: Config, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    const { nameStartupError } = await import('./startup-checks.js');
    throw nameStartupError(err, config);
  }
}

/**
 * Opens the store and services for a one-shot command, logging only `level` and worse, and closes
 * them. One-shot commands append to LOG_FILE without rotating it: the server owns its rotation.
 * Without LOG_FILE their log lines (warnings) go to stderr: stdout carries the command's output.
 */
async function oneShot(
  config: Config,
  level: 'warn' | 'error',
  fn: (runtime: Runtime) => Promise<void>,
): Promise<void> {
  // Before LOG_FILE, DATA_DIR or the store is created, as for `serve`.
  (await import('./startup-checks.js')).checkPaths(config);
  const { createLogger, flushLogger } = await import('../observability/logger.js');
  const { createRuntime } = await import('../runtime.js');
  const to = (config.log.file ?? stderrIsProcess()) ? { fd: 2 as const } : { stream: io().stderr };
  const logger = createLogger({ ...config.log, level, rotation: undefined, ...to });
  const runtime = await opened(config, () => createRuntime(config, logger));
  try {
    await fn(runtime);
  } finally {
    await runtime.close();
    await flushLogger(logger);
  }
}

const withRuntime: WithRuntime = (cmd, fn) => oneShot(configFrom(cmd), 'warn', fn);

export function buildProgram(): Command {
  const program = new Command('llm-proxy')
    .version(VERSION)
    .description('A transparent, multi-tenant proxy for the OpenAI API.')
    .showHelpAfterError('(run with --help for usage)')
    // Help and usage errors go to the command's streams, and end runCli with their exit code.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io().stdout.write(s), writeErr: (s) => io().stderr.write(s) })
    .addHelpText(
      'after',
      '\nCommands print their results on stdout, warnings and errors on stderr (serve logs JSON lines to\n' +
        'stdout, or LOG_FILE). A reader that stops early (| head) ends a command quietly with exit code 0.',
    );

  storeFlags(
    program
      .command('serve', { isDefault: true })
      .description('run the proxy server (default command)')
      .option('--listen <addr>', 'listen address, host:port, [ipv6]:port or :port (LISTEN_ADDR)'),
    // Server-side modules load lazily so the client commands start fast, and only once the settings
    // are valid, so a bad setting is reported without loading the server first.
  ).action(async (_o, cmd: Command) => {
    const config = configFrom(cmd);
    await (await import('./serve.js')).serve(config);
  });

  storeFlags(program.command('migrate').description('apply pending database migrations and exit')).action(
    async (_o, cmd: Command) => {
      const config = configFrom(cmd);
      (await import('./startup-checks.js')).checkPaths(config);
      const { openDatabase, withoutQueryTimeout } = await import('../store/database.js');
      const { migrateToLatest } = await import('../store/migrate.js');
      const db = await opened(config, async () => openDatabase(withoutQueryTimeout(config.database)));
      try {
        const applied = await opened(config, () => migrateToLatest(db));
        io().stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await db.destroy();
      }
    },
  );

  storeFlags(
    program.command('rekey').description('re-encrypt stored upstream keys with the current ENCRYPTION_KEY'),
  ).action((_o, cmd: Command) =>
    withRuntime(cmd, async (runtime) => {
      const n = await runtime.projects.rekey();
      io().stdout.write(`re-encrypted ${n} project key(s)\n`);
    }),
  );

  program
    .command('openapi')
    .description('print the management API OpenAPI 3.1 document (JSON)')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (o: { output?: string }) => {
      const { exportOpenApi } = await import('./openapi.js');
      const text = `${JSON.stringify(await exportOpenApi(), null, 2)}\n`;
      if (o.output) (await import('node:fs')).writeFileSync(o.output, text);
      else io().stdout.write(text);
    });

  storeFlags(
    program
      .command('maintenance')
      .description(
        'run one maintenance pass (usage, token and audit retention, token and session cleanup) and exit; for cron',
      )
      .option('--usage-retention-days <n>', 'delete usage records older than this; 0 keeps them (USAGE_RETENTION_DAYS)')
      .option('--token-retention-days <n>', 'delete tokens ended longer ago; 0 keeps them (TOKEN_RETENTION_DAYS)')
      .option(
        '--audit-retention-days <n>',
        'delete audit events older than this many whole days; 0 keeps them (AUDIT_RETENTION_DAYS)',
      ),
  ).action(async (_o, cmd: Command) => {
    const o = cmd.opts<{ usageRetentionDays?: string; tokenRetentionDays?: string; auditRetentionDays?: string }>();
    const config = configFrom(cmd, {
      USAGE_RETENTION_DAYS: o.usageRetentionDays,
      TOKEN_RETENTION_DAYS: o.tokenRetentionDays,
      AUDIT_RETENTION_DAYS: o.auditRetentionDays,
    });
    // Quiet for cron: only failures are logged; the summary goes to stdout.
    await oneShot(config, 'error', async (runtime) => {
      const report = await runtime.maintenance.runOnce();
      const { usageRetentionDays: u, tokenRetentionDays: t, auditRetentionDays: a } = config.maintenance;
      io().stdout.write(
        `${u === 0 ? 'usage retention off (USAGE_RETENTION_DAYS=0)' : `deleted ${report.usage_records_deleted} usage record(s) older than ${u} day(s)${report.usage_partitions_dropped > 0 ? `, and dropped ${report.usage_partitions_dropped} month partition(s) past it` : ''}`}\n` +
          `deactivated ${report.tokens_deactivated} expired token(s)\n` +
          `${t === 0 ? 'token retention off (TOKEN_RETENTION_DAYS=0)' : `deleted ${report.tokens_deleted} token(s) that ended more than ${t} day(s) ago`}\n` +
          `${a === 0 ? 'audit retention off (AUDIT_RETENTION_DAYS=0)' : `deleted ${report.audit_events_deleted} audit event(s) older than ${a} day(s)`}\n` +
          `deleted ${report.sessions_deleted} ended admin session(s)\n`,
      );
      if (report.errors.length > 0) throw new CliError(`maintenance failed: ${report.errors.join('; ')}`);
    });
  });

  adminUserCommands(program, storeFlags, withRuntime);
  backupCommands(program, storeFlags, configFrom);
  projectCommands(program);
  tokenCommands(program);
  instancesCommand(program);
  usageCommand(program);
  recordsCommand(program);
  pricingCommands(program);
  logsCommand(program);
  storeFlags(
    auditCommand(program)
      .command('verify')
      .description(
        'check the audit chain in the database (with the configured ENCRYPTION_KEY); exits 1 at the first broken link',
      )
      .option('--json', 'print the result as JSON'),
  ).action(async (o: { json?: boolean }, cmd: Command) => {
    const config = configFrom(cmd);
    await opened(config, () => verifyAudit(config, Boolean(o.json)));
  });
  mockUpstreamCommand(program);
  chatCommand(program);
  benchCommand(program);
  return program;
}

/**
 * Runs one command line (`args` without node and the script) with `cli`'s environment and streams,
 * and resolves with its exit code. It never exits the process: dist/cli/main.js does that, and tests
 * call it in their own process. `serve` and `mock-upstream` run until a signal ends the process, so
 * they belong in a process of their own.
 */
export function runCli(args: readonly string[], cli: CliIo): Promise<number> {
  return withIo(cli, async () => {
    try {
      await buildProgram().parseAsync(args, { from: 'user' });
      return 0;
    } catch (err) {
      if (err instanceof CommanderError) return err.exitCode;
      const known = err instanceof ConfigError || err instanceof CliError;
      cli.stderr.write(`llm-proxy: ${known ? (err as Error).message : String((err as Error)?.message ?? err)}\n`);
      return 1;
    }
  });
}
