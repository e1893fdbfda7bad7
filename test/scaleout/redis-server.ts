import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

/** A free local port (the OS picks one, then it is released for the caller to bind). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * A redis-server of the test's own (no persistence) on `port`, which the test may kill and start
 * again on the same port. Resolves once it accepts connections.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;

  /** `password`: the server requires it (requirepass), and the URL carries it. */
  constructor(
    readonly port: number,
    private readonly password?: string,
  ) {}

  get url(): string {
    return `redis://${this.password ? `:${this.password}@` : ''}127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        ...(this.password ? ['--requirepass', this.password] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
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
      child.stderr?.resume();
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
    });
  }

  /** Kills it (SIGKILL: as a crash or a lost host) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
  }
}

/**
 * A TCP forwarder to `target` that can turn into a blackhole: connections stay open but no byte
 * moves either way (a dropped network path, a frozen server), until `resume`.
 */
export class Forwarder {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private holding = false;
  port = 0;

  constructor(private readonly target: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      if (this.holding) this.hold(pair);
      else this.flow(pair);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  blackhole(): void {
    this.holding = true;
    for (const p of this.pairs) this.hold(p);
  }

  /** Ends the blackhole by dropping the connections it held (what they carried is lost); new ones flow. */
  drop(): void {
    this.holding = false;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
  }

  resume(): void {
    this.holding = false;
    for (const p of this.pairs) this.flow(p);
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private hold([a, b]: [net.Socket, net.Socket]): void {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
  }

  private flow([a, b]: [net.Socket, net.Socket]): void {
    a.pipe(b);
    b.pipe(a);
  }
}
