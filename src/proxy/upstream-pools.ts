import { Pool } from 'undici';

export interface UpstreamOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

/**
 * One undici Pool per upstream origin: keep-alive connections reused across requests and
 * tenants (connections carry no credentials; each request has its own key), bounded in number.
 * 0 for a timeout means none, as in undici.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly opts: UpstreamOptions) {}

  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.opts.maxConnections,
        connect: { timeout: this.opts.connectTimeoutMs },
        headersTimeout: this.opts.headersTimeoutMs,
        bodyTimeout: this.opts.idleTimeoutMs,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    const pools = this.take();
    await Promise.all(pools.map((p) => (p.destroyed ? undefined : p.close())));
  }

  /** Aborts whatever is still running (used when the shutdown deadline passes). */
  async destroy(): Promise<void> {
    await Promise.all(this.take().map((p) => p.destroy()));
  }

  /** Hands over the pools and forgets them at once, so close and destroy never both act on one. */
  private take(): Pool[] {
    const pools = [...this.pools.values()];
    this.pools.clear();
    return pools;
  }
}
