#!/usr/bin/env node
/**
 * `node dist/cli/bench-main.js …` is `llm-proxy bench …` without the rest of the CLI: the harness and
 * the tests run the load generator through it, in a process of its own. It lives in cli/ because it
 * is a command-line entry: cli imports bench, never the other way round.
 */
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench-command.js';
import { CliError } from './client.js';
import { exitQuietlyOnClosedPipes } from './closed-pipes.js';

exitQuietlyOnClosedPipes();
const program = new Command('llm-proxy').exitOverride();
benchCommand(program);
try {
  await program.parseAsync([process.argv[0] ?? 'node', 'llm-proxy', 'bench', ...process.argv.slice(2)]);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(
    `llm-proxy bench: ${err instanceof CliError ? err.message : String((err as Error)?.stack ?? err)}\n`,
  );
  process.exitCode = 1;
}
