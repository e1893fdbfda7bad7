import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';

/** A free local port (the OS picks one, then it is released for the caller to bind). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A redis-server process of the test's own, started with `args` (no persistence). */
export class RedisProcess {
  private constructor(
    private child: ChildProcess,
    private readonly args: string[],
    private readonly cwd: string,
  ) {}

  /** Starts it again as it was first started (after `kill`; a cluster node finds its nodes.conf). */
  async restart(): Promise<void> {
    this.child = (await RedisProcess.start(this.args, this.cwd)).child;
  }

  /** Starts one and resolves once it accepts connections (its log says so). */
  static async start(args: string[], cwd: string): Promise<RedisProcess> {
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', cwd, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd },
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('Ready to accept connections')) {
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-800)}`)));
    });
    return new RedisProcess(child, args, cwd);
  }

  /** Kills it without waiting (at the process's exit, where nothing can be awaited). */
  killNow(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Kills it (SIGKILL: a crash or a lost host) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
  }
}

/**
 * A redis-server of the test's own (no persistence) on `port`, which the test may kill and start
 * again on the same port. Resolves once it accepts connections.
 */
export class OwnRedis {
  private process: RedisProcess | undefined;

  /** `password`: the server requires it (requirepass), and the URL carries it. */
  constructor(
    readonly port: number,
    private readonly password?: string,
  ) {}

  get url(): string {
    return `redis://${this.password ? `:${this.password}@` : ''}127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // Nothing is written to its directory (no persistence): the temp folder will do.
    this.process = await RedisProcess.start(
      ['--port', String(this.port), ...(this.password ? ['--requirepass', this.password] : [])],
      tmpdir(),
    );
  }

  /** Kills it (SIGKILL: as a crash or a lost host) and waits until it is gone. */
  async kill(): Promise<void> {
    await this.process?.kill();
  }
}
