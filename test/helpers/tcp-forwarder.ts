import net from 'node:net';

type Pair = [net.Socket, net.Socket];

/**
 * A TCP forwarder to 127.0.0.1:`target` that can turn into a blackhole: connections stay open but
 * no byte moves either way (a dropped network path, a frozen server), until `resume` lets the held
 * bytes flow again or `drop` cuts them.
 */
export class Forwarder {
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();
  private holding = false;
  private refusing = false;
  port = 0;

  constructor(private readonly target: number) {
    this.server = net.createServer((client) => {
      if (this.refusing) return void client.resetAndDestroy();
      const upstream = net.connect(this.target, '127.0.0.1');
      const pair: Pair = [client, upstream];
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

  /** Holds every connection, open now or made later. */
  blackhole(): void {
    this.holding = true;
    for (const p of this.pairs) this.hold(p);
  }

  /** Freezes the connections open now; new ones flow. */
  freezeOpen(): void {
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

  /** Resets every connection, open now or made later (a server that is down), until `resume`. */
  refuse(): void {
    this.refusing = true;
    this.holding = false;
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.destroy();
    }
  }

  resume(): void {
    this.holding = false;
    this.refusing = false;
    for (const p of this.pairs) this.flow(p);
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private hold([a, b]: Pair): void {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
  }

  private flow([a, b]: Pair): void {
    a.pipe(b);
    b.pipe(a);
  }
}
