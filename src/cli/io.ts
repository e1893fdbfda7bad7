import { AsyncLocalStorage } from 'node:async_hooks';
import type { Readable, Writable } from 'node:stream';

/**
 * What a CLI command reads and writes: its settings' environment and its three standard streams.
 * The `llm-proxy` process runs with its own (dist/cli/main.js); a test runs a command in its own
 * process with strings instead (runCli in program.ts), so it need not start Node for each command.
 */
export interface CliIo {
  /** Where settings are read from; undefined is the process's environment (read in config/ only). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  stdin: Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

const processIo = (): CliIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

const current = new AsyncLocalStorage<CliIo>();

/** The streams and environment of the command running now: the process's own outside runCli. */
export function io(): CliIo {
  return current.getStore() ?? processIo();
}

/** Runs `fn` (and everything it starts) with `value` as its io(). */
export function withIo<T>(value: CliIo, fn: () => T): T {
  return current.run(value, fn);
}

/** True when the command writes to the process's own standard error (the logger can then use the descriptor). */
export function stderrIsProcess(): boolean {
  return io().stderr === process.stderr;
}
