#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { createLogger, flushLogger } from '../observability/logger.js';
import { createRuntime } from '../runtime.js';
import { openDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { VERSION } from '../version.js';
import { CliError } from './client.js';
import { projectCommands, tokenCommands } from './manage-commands.js';
import { serve } from './serve.js';

/** Flags shared by commands that open the store themselves; each maps to a setting. */
function serverFlags(cmd: Command): Command {
  return cmd
    .option('--listen <addr>', 'listen address, host:port or :port (LISTEN_ADDR)')
    .option('--data-dir <dir>', 'data directory (DATA_DIR)')
    .option('--database-url <url>', 'sqlite:<path> or postgres://… (DATABASE_URL)')
    .option('--config <file>', 'JSON file of settings (CONFIG_FILE)');
}

function configFrom(cmd: Command): Config {
  const o = cmd.opts<{ listen?: string; dataDir?: string; databaseUrl?: string; config?: string }>();
  return loadConfig({ LISTEN_ADDR: o.listen, DATA_DIR: o.dataDir, DATABASE_URL: o.databaseUrl, CONFIG_FILE: o.config });
}

export function buildProgram(): Command {
  const program = new Command('llm-proxy')
    .version(VERSION)
    .description('A transparent, multi-tenant proxy for the OpenAI API.')
    .showHelpAfterError('(run with --help for usage)');

  serverFlags(
    program.command('serve', { isDefault: true }).description('run the proxy server (default command)'),
  ).action(async (_o, cmd: Command) => serve(configFrom(cmd)));

  serverFlags(program.command('migrate').description('apply pending database migrations and exit')).action(
    async (_o, cmd: Command) => {
      const config = configFrom(cmd);
      const db = openDatabase(config.database);
      try {
        const applied = await migrateToLatest(db);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await db.destroy();
      }
    },
  );

  serverFlags(
    program.command('rekey').description('re-encrypt stored upstream keys with the current ENCRYPTION_KEY'),
  ).action(async (_o, cmd: Command) => {
    const config = configFrom(cmd);
    const logger = createLogger({ ...config.log, level: 'warn' });
    const runtime = await createRuntime(config, logger);
    try {
      const n = await runtime.projects.rekey();
      process.stdout.write(`re-encrypted ${n} project key(s)\n`);
    } finally {
      await runtime.close();
      await flushLogger(logger);
    }
  });

  projectCommands(program);
  tokenCommands(program);
  return program;
}

async function run(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    const known = err instanceof ConfigError || err instanceof CliError;
    process.stderr.write(`llm-proxy: ${known ? (err as Error).message : String((err as Error)?.message ?? err)}\n`);
    process.exitCode = 1;
  }
}

await run();
