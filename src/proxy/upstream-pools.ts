import { Pool } from 'undici';
import type { Config } from '../config/config.js';
import { timedConnector } from './upstream-connect.js';
import { UpstreamGate } from './upstream-gate.js';

/** The upstream settings (UPSTREAM_*), as config.ts documents them. */
export type UpstreamOptions = Config['proxy']['upstream'];

/** One upstream origin: its connection pool and the gate that hands out its connection slots. */
export interface Upstream {
  pool: Pool;
  gate: UpstreamGate;
  /** UPSTREAM_HEADERS_TIMEOUT_MS, which the upstream leg keeps on a Node timer (0 = none). */
  headersTimeoutMs: number;
}

/**
 * One undici Pool per upstream origin: keep-alive connections reused across requests and
 * tenants (connections carry no credentials; each request has its own key), bounded in number.
 * Requests reach a pool only through its gate, so the pool never queues. 0 for a timeout means
 * none, as in undici. undici checks its timers about twice a second, so the connect and headers
 * timeouts, which a user may set below a second, run on Node's timers instead, to the millisecond:
 * the connect timeout in the connector (once per connection), the headers timeout in the upstream
 * leg (once per request, in place of undici's). The body idle timeout stays undici's (to within
 * about a second, as documented): it would otherwise cost a timer refresh per response chunk.
 * HTTP/1.1 only, though undici offers HTTP/2 to a TLS upstream by default: the gate's slots are
 * connections (one request each), and the upstream leg reads the response's raw header list, which
 * an HTTP/2 stream does not have.
 */
export class UpstreamPools {
  private readonly upstreams = new Map<string, Upstream>();

  constructor(private readonly opts: UpstreamOptions) {}

  get(origin: string): Upstream {
    let upstream = this.upstreams.get(origin);
    if (!upstream) {
      const pool = new Pool(origin, {
        connections: this.opts.maxConnections,
        allowH2: false,
        connect: timedConnector(this.opts.connectTimeoutMs),
        headersTimeout: 0,
        bodyTimeout: this.opts.idleTimeoutMs,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
      });
      const gate = new UpstreamGate({
        slots: this.opts.maxConnections,
        queueTimeoutMs: this.opts.queueTimeoutMs,
        queueLimit: this.opts.queueLimit,
        tenantSharePercent: this.opts.tenantSharePercent,
      });
      upstream = { pool, gate, headersTimeoutMs: this.opts.headersTimeoutMs };
      this.upstreams.set(origin, upstream);
    }
    return upstream;
  }

  /** Lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    const upstreams = this.take();
    for (const u of upstreams) u.gate.close();
    await Promise.all(upstreams.map((u) => (u.pool.destroyed ? undefined : u.pool.close())));
  }

  /** Per origin: connection slots in use, requests waiting for one, and the slots there are (for metrics). */
  stats(): { origin: string; busy: number; queued: number; slots: number }[] {
    return [...this.upstreams].map(([origin, u]) => ({
      origin,
      busy: u.gate.active,
      queued: u.gate.waiting,
      slots: u.gate.slots,
    }));
  }

  /** Aborts whatever is still running or waiting (used when the shutdown deadline passes). */
  async destroy(): Promise<void> {
    const upstreams = this.take();
    for (const u of upstreams) u.gate.close();
    await Promise.all(upstreams.map((u) => u.pool.destroy()));
  }

  /** Hands over the upstreams and forgets them at once, so close and destroy never both act on one. */
  private take(): Upstream[] {
    const upstreams = [...this.upstreams.values()];
    this.upstreams.clear();
    return upstreams;
  }
}
