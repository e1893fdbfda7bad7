import type { FastifyInstance } from 'fastify';
import type { InstancesSummary } from '../instances/instance-view.js';
import type { SinkStatus } from '../shipping/shipping.js';

export interface UsageHealth {
  /** Set while the last usage write to the store failed (a short, safe description). */
  failing: string | undefined;
  /** How long the usage write in progress has run (ms); 0 when none is. */
  writingForMs: number;
  /** Whether admitted requests are journaled (the server: yes; one-shot commands: no). */
  journaled: boolean;
  /** Set while the last write to the crash journal failed. */
  journalFailing: string | undefined;
  /** Usage records waiting in memory for the store. */
  pending: number;
  /** Records that left memory during a store outage, waiting in the journal to be written from it. */
  spilled: number;
}

/** What /health shows beyond the version: the state of the store, the queues and the upstreams. */
export interface HealthDetail {
  /** `sqlite` or `postgres`. */
  storeKind: string;
  usage: UsageHealth & { written: number; dropped: number };
  inFlight: number;
  /** Load shedding (PROXY_MAX_IN_FLIGHT): the limit, whether it sheds now, how many it has shed. */
  load: { limit: number; shedding: boolean; shed: number };
  upstreams: { origin: string; busy: number; queued: number; slots: number }[];
  /** Upstream keys (per model) cooling down or half-open (counts only: /health needs no token). */
  keyCooldowns?: { cooling: number; halfOpen: number };
  /** Each log-shipping sink's state; none when shipping is off. */
  sinks: SinkStatus[];
  /** The change feed (tokens/change-feed.ts): how other instances' changes reach this one. */
  changes?: { state: string; applied_seq: number | null; last_poll_at: string | null; failing: string | null };
}

export interface HealthOptions {
  version: string;
  detail: () => HealthDetail;
  /** Throws when a dependency (the database) cannot serve. */
  checkReady: () => Promise<void>;
  /** The usage writer's state: an instance whose accounting cannot be written is not ready. */
  usageHealth: () => UsageHealth;
  isShuttingDown: () => boolean;
  /** The instance sheds load (PROXY_MAX_IN_FLIGHT): not ready, so a load balancer sends traffic elsewhere. */
  shedding?: () => boolean;
  /**
   * The limiter's backend and, for Redis, its state and failure mode (limits/failover-limiter.ts).
   * Redis failing in `closed` mode makes the instance not ready: it would refuse limited requests.
   */
  limiter?: () => LimiterView;
  /**
   * Counts of the instances sharing the database, by state, from this one's last heartbeat (null
   * before it). Counts only: /health needs no token, and the list names hosts and processes.
   */
  instances?: () => InstancesSummary | null;
}

/**
 * `memory`: every limit per instance; `database`: caps and lifetime budgets counted in PostgreSQL,
 * the rest per instance (limits/store-counted-limiter.ts); `redis`: every limit shared.
 */
export type LimiterView =
  | { backend: 'memory' | 'database' }
  | { backend: 'redis'; state: 'ok' | 'failing'; mode: 'closed' | 'local' };

/** The limiter as /ready's check says it. */
function limiterCheck(l: LimiterView | undefined): string {
  if (l?.backend !== 'redis' || l.state === 'ok') return 'ok';
  return l.mode === 'closed' ? 'failing: refusing limited requests' : 'failing: limiting per instance';
}

/** A usage write running this long is wedged (a store that stopped answering without a query timeout). */
export const WEDGED_AFTER_MS = 60_000;

/** The usage writer's state as the probes say it: ok, failing, or wedged. */
function writerState(u: UsageHealth): string {
  if (u.failing !== undefined) return `failing: ${u.failing}`;
  if (u.writingForMs >= WEDGED_AFTER_MS) return `wedged: writing for ${Math.round(u.writingForMs / 1000)} s`;
  return 'ok';
}

/**
 * Liveness says the process runs; readiness says it can serve: database reachable, usage
 * accounting being written (store and journal), not shedding load, not draining.
 */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  const started = Date.now();
  // Detail for a person or a dashboard: always 200 while the process serves; `status` says
  // `degraded` when something is failing. It pings the store but never fails on it (that is /ready).
  app.get('/health', async () => {
    const d = opts.detail();
    const limiter = opts.limiter?.();
    let store = 'ok';
    try {
      await opts.checkReady();
    } catch {
      store = 'unreachable';
    }
    const u = d.usage;
    const writer = writerState(u);
    const degraded =
      store !== 'ok' ||
      writer !== 'ok' ||
      u.journalFailing !== undefined ||
      d.sinks.some((s) => s.lastError !== undefined) ||
      d.changes?.state === 'failing' ||
      limiterCheck(limiter) !== 'ok';
    return {
      status: degraded ? 'degraded' : 'ok',
      version: opts.version,
      uptime_seconds: Math.round((Date.now() - started) / 1000),
      draining: opts.isShuttingDown(),
      store: { kind: d.storeKind, status: store },
      in_flight: d.inFlight,
      load: { in_flight_limit: d.load.limit, shedding: d.load.shedding, shed: d.load.shed },
      usage: {
        pending: u.pending,
        written: u.written,
        dropped: u.dropped,
        spilled: u.spilled,
        failing: u.failing ?? null,
        writer,
        journal: !u.journaled ? 'off' : u.journalFailing === undefined ? 'ok' : `failing: ${u.journalFailing}`,
      },
      upstreams: d.upstreams.map((x) => ({ origin: x.origin, busy: x.busy, queued: x.queued, slots: x.slots })),
      upstream_keys: { cooling: d.keyCooldowns?.cooling ?? 0, half_open: d.keyCooldowns?.halfOpen ?? 0 },
      sinks: sinksView(d.sinks),
      ...(d.changes ? { changes: d.changes } : {}),
      ...(limiter ? { limiter } : {}),
      ...(opts.instances ? { instances: opts.instances() } : {}),
    };
  });
  app.get('/live', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    if (opts.isShuttingDown()) return reply.code(503).send({ status: 'shutting_down' });
    let database = 'ok';
    try {
      await opts.checkReady();
    } catch {
      database = 'unreachable';
    }
    const usage = opts.usageHealth();
    const checks: Record<string, string> = {
      database,
      usage_writer: writerState(usage),
      usage_journal: !usage.journaled
        ? 'off'
        : usage.journalFailing === undefined
          ? 'ok'
          : `failing: ${usage.journalFailing}`,
    };
    const limiter = opts.limiter?.();
    const limits = limiterCheck(limiter);
    const limiterReady = limiter?.backend !== 'redis' || limiter.state === 'ok' || limiter.mode === 'local';
    const shedding = opts.shedding?.() === true;
    if (opts.shedding) checks.load = shedding ? 'shedding' : 'ok';
    const ready =
      database === 'ok' &&
      checks.usage_writer === 'ok' &&
      usage.journalFailing === undefined &&
      limiterReady &&
      !shedding;
    if (limiter?.backend === 'redis') checks.limiter = limits;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', checks, usage_pending: usage.pending });
  });
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * The log-shipping sinks by name. Only counts, times and a short reason (a status or an error
 * code): /health needs no token, so never a URL, a header or a receiver's answer.
 */
function sinksView(sinks: SinkStatus[]): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const s of sinks) {
    view[s.sink] = {
      queue_depth: s.queued,
      spilled_bytes: s.spilledBytes,
      last_error: s.lastError ?? null,
      last_error_at: iso(s.lastErrorAt),
      last_success_at: iso(s.lastSuccessAt),
    };
  }
  return view;
}
