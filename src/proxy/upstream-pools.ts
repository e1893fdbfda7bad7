import { Pool } from 'undici';
import type { Config } from '../config/config.js';
import { timedConnector } from './upstream-connect.js';
import { UpstreamGate } from './upstream-gate.js';

/**
 * Streams undici opens on one HTTP/2 connection before it opens another: undici's default, and
 * what common servers allow (SETTINGS_MAX_CONCURRENT_STREAMS 100); a server that allows fewer says
 * so, and undici keeps to it.
 */
const H2_STREAMS_PER_CONNECTION = 100;

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
 *
 * HTTP/1.1 by default (undici would offer HTTP/2 to a TLS upstream): some providers answer HTTP/2
 * badly (streams reset under load), so HTTP/2 is opt-in per key, in a pool of its own per origin.
 * Such a pool offers h2 by ALPN and falls back to HTTP/1.1 where the server does not take it. Its
 * gate's slots are then requests in flight (streams), as many as UPSTREAM_MAX_CONNECTIONS: undici
 * puts up to H2_STREAMS_PER_CONNECTION of them on one connection (fewer when the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS says so) before it opens another, and after a fallback to
 * HTTP/1.1 each request has a connection of its own, as in an HTTP/1.1 pool, so the pool never
 * queues either way.
 */
export class UpstreamPools {
  /** By origin; pools that offer HTTP/2 by `h2 ` and the origin. */
  private readonly upstreams = new Map<string, Upstream>();

  constructor(private readonly opts: UpstreamOptions) {}

  get(origin: string, http2 = false): Upstream {
    const name = http2 ? `h2 ${origin}` : origin;
    let upstream = this.upstreams.get(name);
    if (!upstream) {
      const pool = new Pool(origin, {
        connections: this.opts.maxConnections,
        allowH2: http2,
        ...(http2 ? { h2Options: { maxConcurrentStreams: H2_STREAMS_PER_CONNECTION } } : {}),
        connect: timedConnector(this.opts.connectTimeoutMs, http2),
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
      this.upstreams.set(name, upstream);
    }
    return upstream;
  }

  /** Lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    const upstreams = this.take();
    for (const u of upstreams) u.gate.close();
    await Promise.all(upstreams.map((u) => (u.pool.destroyed ? undefined : u.pool.close())));
  }

  /**
   * Per origin: connection slots in use, requests waiting for one, and the slots there are (for
   * metrics); a pool that offers HTTP/2 is named `h2 <origin>`.
   */
  stats(): { origin: string; busy: number; queued: number; slots: number }[] {
    return [...this.upstreams].map(([name, u]) => ({
      origin: name,
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
