import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
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
 * Runs the built CLI to completion. `env` replaces the environment (plus PATH) so the host's settings
 * never leak in; `input`, when given, is its standard input.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
  input?: string,
): Promise<CliResult> {
  return runScript(CLI, args, env, cwd, input);
}

/** Runs `llm-proxy bench` (the standalone entry) to completion, in a clean environment like runCli. */
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
  cwd?: string,
  input?: string,
): Promise<CliResult> {
  registerEnvSecrets(env);
  const label = `${currentTestFile()}: ${path.basename(script)} ${args.slice(0, 2).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    if (input !== undefined) child.stdin.end(input);
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
    env: { PATH: process.env.PATH ?? '', LISTEN_ADDR: '127.0.0.1:0', ...env },
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
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}\n${err}`)), 20_000);
    const check = () => {
      const m = /"url":"(http:[^"]+)".*"msg":"llm-proxy listening"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`serve exited early:\n${out}\n${err}`));
    });
  });
  return { child, url, stdout: () => out, stderr: () => err, exited };
}
