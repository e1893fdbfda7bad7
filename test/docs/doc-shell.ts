import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const MARKER = /__doc_done__ (\d+) (\d+)\n/;

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * One bash session that runs commands one after another, as a reader pasting them into a terminal
 * would: variables set by one command are there for the next. Each command's output goes to files
 * of its own; the session reports each end with a marker line on its stdout, which is what `run`
 * waits for. Standard input is /dev/null, so a command that prompts fails instead of waiting.
 */
export class DocShell {
  private readonly bash: ChildProcess;
  private buffer = '';
  private count = 0;
  private exited: string | undefined;
  private waiting: { n: number; resolve: (code: number) => void; reject: (err: Error) => void } | undefined;

  /** Runs in `cwd`; each command's output is kept in `scratch`. */
  constructor(
    cwd: string,
    private readonly scratch: string,
    env: Record<string, string>,
  ) {
    // A process group of its own, so `close` ends a command still running along with the shell.
    this.bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    this.bash.stderr?.on('data', (c) => (stderr += c));
    this.bash.stdout?.on('data', (c: Buffer) => {
      this.buffer += c.toString('utf8');
      // Markers of commands given up on (a test that timed out) are passed over.
      for (let m = MARKER.exec(this.buffer); m; m = MARKER.exec(this.buffer)) {
        this.buffer = this.buffer.slice(m.index + m[0].length);
        if (this.waiting && Number(m[1]) === this.waiting.n) {
          const w = this.waiting;
          this.waiting = undefined;
          w.resolve(Number(m[2]));
        }
      }
    });
    this.bash.on('close', (code) => {
      this.exited = `bash exited (${code}): ${stderr}`;
      this.waiting?.reject(new Error(this.exited));
    });
    // Strict where a terminal is lenient, so a failure shows: a failing stage fails a pipeline, and
    // curl fails on an HTTP error status (printing the body) instead of printing it and exiting 0.
    this.send('set -o pipefail\ncurl() { command curl --fail-with-body "$@"; }\n');
  }

  private send(text: string): void {
    this.bash.stdin?.write(text);
  }

  async run(command: string): Promise<ShellResult> {
    if (this.exited) throw new Error(this.exited);
    const n = ++this.count;
    const out = path.join(this.scratch, `out-${n}`);
    const err = path.join(this.scratch, `err-${n}`);
    const code = await new Promise<number>((resolve, reject) => {
      this.waiting = { n, resolve, reject };
      this.send(`{\n${command}\n} </dev/null >'${out}' 2>'${err}'; printf '__doc_done__ ${n} %s\\n' "$?"\n`);
    });
    return { code, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  }

  /** Ends the shell and whatever it still runs (a command given up on). */
  async close(): Promise<void> {
    if (this.exited || this.bash.pid === undefined) return;
    const closed = new Promise((resolve) => this.bash.once('close', resolve));
    this.bash.stdin?.end();
    process.kill(-this.bash.pid, 'SIGTERM');
    await closed;
  }
}
