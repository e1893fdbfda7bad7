import { toIso } from '../shared/clock.js';
import type { InstanceRow } from '../store/instances-repo.js';

/**
 * `live`: heartbeats arrive; `draining`: a graceful shutdown began (its row goes when it ends);
 * `gone`: no heartbeat for INSTANCE_GONE_AFTER_MS, so the process died or cannot reach the
 * database (the maintenance pass deletes its row a day after its last heartbeat).
 */
export type InstanceState = 'live' | 'draining' | 'gone';

/** How long the row of a gone instance stays visible before the maintenance pass deletes it. */
export const GONE_ROW_RETENTION_MS = 86_400_000;

/** One instance as the management API shows it. */
export interface InstanceView {
  id: string;
  host: string;
  pid: number;
  /** The WORKERS slot (0 … N-1); null for a single process. */
  worker: number | null;
  version: string;
  listen: string | null;
  state: InstanceState;
  started_at: string;
  last_seen_at: string;
  /** Seconds it has run (up to its last heartbeat when gone). */
  uptime_seconds: number;
  in_flight: number;
  /** The database as the instance saw it at its last heartbeat: `ok` or `failing: …`. */
  database: string;
  /** The Redis limiter as the instance saw it (`ok`, `failing`); null without REDIS_URL. */
  redis: string | null;
  /** Whether this is the instance that answered. */
  self: boolean;
}

/** The state of a row as of `now`. */
export function instanceState(row: InstanceRow, now: number, goneAfterMs: number): InstanceState {
  if (now - row.last_seen_at > goneAfterMs) return 'gone';
  return row.draining ? 'draining' : 'live';
}

export function toInstanceView(row: InstanceRow, now: number, goneAfterMs: number, selfId: string): InstanceView {
  const state = instanceState(row, now, goneAfterMs);
  const until = state === 'gone' ? row.last_seen_at : Math.max(now, row.last_seen_at);
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    worker: row.worker,
    version: row.version,
    listen: row.listen,
    state,
    started_at: toIso(row.started_at) as string,
    last_seen_at: toIso(row.last_seen_at) as string,
    uptime_seconds: Math.max(0, Math.round((until - row.started_at) / 1000)),
    in_flight: row.in_flight,
    database: row.database_state,
    redis: row.redis_state,
    self: row.id === selfId,
  };
}

/**
 * What /health shows of the instances: counts by state and the versions running, nothing that
 * names a host or a process (/health needs no token; the list is on GET /manage/instances).
 */
export interface InstancesSummary {
  live: number;
  draining: number;
  gone: number;
  /** Versions of the instances not gone, sorted: more than one during a rolling deploy. */
  versions: string[];
  /** When the rows were read (by this instance's last heartbeat). */
  as_of: string;
}

export function summarize(rows: InstanceRow[], now: number, goneAfterMs: number, readAt: number): InstancesSummary {
  const counts = { live: 0, draining: 0, gone: 0 };
  const versions = new Set<string>();
  for (const row of rows) {
    const state = instanceState(row, now, goneAfterMs);
    counts[state]++;
    if (state !== 'gone') versions.add(row.version);
  }
  return { ...counts, versions: [...versions].sort(), as_of: toIso(readAt) as string };
}
