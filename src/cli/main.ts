#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { VERSION } from '../version.js';
import { benchCommand } from './bench-command.js';
import { CliError } from './client.js';
import { chatCommand, mockUpstreamCommand } from './dev-commands.js';
import { projectCommands, tokenCommands } from './manage-commands.js';

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
    // Server-side modules load lazily so the client commands start fast.
  ).action(async (_o, cmd: Command) => (await import('./serve.js')).serve(configFrom(cmd)));

  serverFlags(program.command('migrate').description('apply pending database migrations and exit')).action(
    async (_o, cmd: Command) => {
      const config = configFrom(cmd);
      const { openDatabase } = await import('../store/database.js');
      const { migrateToLatest } = await import('../store/migrate.js');
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
    const { createLogger, flushLogger } = await import('../observability/logger.js');
    const { createRuntime } = await import('../runtime.js');
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

  program
    .command('openapi')
    .description('print the management API OpenAPI 3.1 document (JSON)')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (o: { output?: string }) => {
      const { exportOpenApi } = await import('./openapi.js');
      const text = `${JSON.stringify(await exportOpenApi(), null, 2)}\n`;
      if (o.output) (await import('node:fs')).writeFileSync(o.output, text);
      else process.stdout.write(text);
    });

  projectCommands(program);
  tokenCommands(program);
  mockUpstreamCommand(program);
  chatCommand(program);
  benchCommand(program);
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
