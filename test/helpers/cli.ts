import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { keepOutput, registerSecret } from './secret-watch.js';
import { currentTestFile } from './test-file.js';

export const CLI = path.resolve('dist/cli/main.js');
/** `llm-proxy bench` as a user runs it, through its standalone entry (the same command). */
export const BENCH = path.resolve('dist/cli/bench-main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a process a test starts: `env` replaces the host's (so its settings never leak
 * in), plus PATH, and TMPDIR so whatever the process leaves in the temp folder is the run's (see
 * vitest.config.ts).
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const { PATH = '', TMPDIR } = process.env;
  return { PATH, ...(TMPDIR ? { TMPDIR } : {}), ...env };
}

/** A stream that keeps what is written to it. */
function collector(): { stream: Writable; text(): string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

/**
 * Runs one CLI command to completion in this process: the program the built CLI runs
 * (src/cli/program.ts), with `env` as its whole environment and `input`, when given, as its
 * standard input (empty otherwise, as from /dev/null). No Node start-up per command; what a command
 * prints and its exit code are the same as in a process of its own. Tests about the process itself
 * (start-up, signals, exit codes, closed pipes) use spawnCli; `serve` and `mock-upstream`, which run
 * until a signal, only run there.
 */
export async function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const command = args.find((a) => !a.startsWith('-'));
  const runs = !args.some((a) => ['-h', '--help', '-V', '--version'].includes(a));
  if (runs && (command === undefined || command === 'serve' || command === 'mock-upstream')) {
    throw new Error(`runCli runs one-shot commands in the test's process; start \`${args.join(' ')}\` with spawnCli`);
  }
  registerEnvSecrets(env);
  const { runCli: run } = await import('../../src/cli/program.js');
  const stdout = collector();
  const stderr = collector();
  const stdin = Readable.from(input === undefined ? [] : [Buffer.from(input)], { objectMode: false });
  const code = await run(args, { env: { ...env }, stdin, stdout: stdout.stream, stderr: stderr.stream });
  keepOutput(`${currentTestFile()}: llm-proxy ${args.slice(0, 2).join(' ')} (stderr)`, stderr.text());
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * Runs the built CLI in a process of its own, to completion, with the environment of childEnv(env).
 * With `closeStdout` nobody reads its stdout: the reading end is closed before the command has
 * written anything, as `| head -1` does once it has its line, so every write to stdout fails with
 * EPIPE whatever the machine's speed.
 */
export function spawnCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
  opts: { closeStdout?: boolean } = {},
): Promise<CliResult> {
  return runScript(CLI, args, env, input, opts.closeStdout);
}

/** Runs `llm-proxy bench` (the standalone entry) to completion, in a clean environment like spawnCli. */
export function runBench(args: string[]): Promise<CliResult> {
  return runScript(BENCH, args, {});
}

/** Secrets a test hands a process through its environment. */
function registerEnvSecrets(env: Record<string, string>): void {
  registerSecret(env.MANAGEMENT_TOKEN);
  registerSecret(env.ENCRYPTION_KEY);
  for (const k of (env.ENCRYPTION_KEY_PREVIOUS ?? '').split(',')) registerSecret(k.trim());
}

function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
  closeStdout = false,
): Promise<CliResult> {
  registerEnvSecrets(env);
  const label = `${currentTestFile()}: ${path.basename(script)} ${args.slice(0, 2).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    if (closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.stdin.end(input ?? '');
    child.on('close', (code) => {
      keepOutput(`${label} (stderr)`, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `llm-proxy serve` as a child process (`nodeArgs` go to node itself) and waits until it is listening. */
export async function spawnServe(
  env: Record<string, string>,
  args: string[] = [],
  nodeArgs: string[] = [],
): Promise<ServeProcess> {
  registerEnvSecrets(env);
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', ...args], {
    env: childEnv({ LISTEN_ADDR: '127.0.0.1:0', ...env }),
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (err += c));
  const label = `${currentTestFile()}: serve`;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      keepOutput(`${label} (stdout and stderr)`, `${out}\n${err}`);
      resolve(code);
    }),
  );
  // Until it says it listens, or exits: a start takes what the machine's load makes it take.
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const m = /"url":"(https?:[^"]+)".*"msg":"llm-proxy listening"/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    exited.then(() => reject(new Error(`serve exited early:\n${out}\n${err}`)));
  });
  return { child, url, stdout: () => out, stderr: () => err, exited };
}
