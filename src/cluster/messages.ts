/** One metric as prom-client's `getMetricsAsJSON()` gives it (its typings omit `metricName`). */
export interface SnapshotMetric {
  name: string;
  help: string;
  /** counter, gauge, histogram, summary */
  type: string;
  /** How workers' values combine (prom-client's aggregators: sum, average, min, max, first, omit). */
  aggregator: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** One process's metrics (what the primary merges). */
export type Snapshot = SnapshotMetric[];

/**
 * The IPC between the primary and its workers (node:cluster's channel, JSON). Types are prefixed so
 * they never meet a message of another library on the same channel (prom-client uses its own).
 */
export type ToPrimary =
  /** The worker listens for messages: it can be told its slot. */
  | { type: 'llmp:hello' }
  /** The worker serves: its server has started. */
  | { type: 'llmp:ready'; url: string; metricsUrl: string | undefined; adminUi: boolean }
  /** A scrape of /metrics arrived at this worker: it wants the whole host's text. */
  | { type: 'llmp:scrape'; id: number }
  /** This worker's registry, asked for by `llmp:collect`; null when it has none to give (keep the last). */
  | { type: 'llmp:snapshot'; id: number; metrics: Snapshot | null };

export type ToWorker =
  | { type: 'llmp:init'; slot: number; count: number }
  | { type: 'llmp:collect'; id: number }
  | { type: 'llmp:scraped'; id: number; text: string }
  | { type: 'llmp:scrape-failed'; id: number; message: string }
  /** Drain and exit, as on SIGTERM (not counted as a signal: a following Ctrl-C is still the first). */
  | { type: 'llmp:shutdown' };

/** A message of ours (anything else on the channel is ignored). */
export function isOurs<T extends { type: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && String((m as { type?: unknown }).type).startsWith('llmp:');
}
