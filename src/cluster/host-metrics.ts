import { AggregatorRegistry } from 'prom-client';
import { prometheusNaN } from '../observability/prometheus-registry.js';
import type { Snapshot } from './messages.js';

type Metric = Snapshot[number];

/** Types whose value only grows while a process lives: what a dead worker leaves in the host's totals. */
const KEPT_TYPES = new Set(['counter', 'histogram']);

/**
 * The host's /metrics under WORKERS, kept by the primary: every worker's latest snapshot, merged
 * by each metric's aggregator (counters, histograms and most gauges summed; event-loop lag
 * averaged; see prom-client's default metrics). A worker that dies leaves its last counters and
 * histograms here (`retire`), folded into one retired snapshot, so totals never go down when a
 * worker is replaced: the replacement counts from zero on top of them. What it counted after its
 * last scrape is lost with it.
 */
export class HostMetrics {
  private readonly latest = new Map<number, Snapshot>();
  private retired: Snapshot = [];

  /** A worker's fresh snapshot. */
  update(slot: number, snapshot: Snapshot): void {
    this.latest.set(slot, snapshot);
  }

  /** The worker in `slot` is gone: its counters and histograms stay in the totals, its gauges leave. */
  retire(slot: number): void {
    const last = this.latest.get(slot);
    this.latest.delete(slot);
    if (last) this.retired = sumSnapshots([this.retired, last.filter((m) => KEPT_TYPES.has(m.type))]);
  }

  /** The Prometheus text of the whole host, with the primary's own metrics (`extra`) added. */
  async text(extra: Snapshot = []): Promise<string> {
    // Live workers first: a metric's help and aggregator come from the first snapshot holding it.
    const registry = AggregatorRegistry.aggregate([...this.latest.values(), this.retired, extra] as never);
    return prometheusNaN(await registry.metrics());
  }
}

/** Snapshots summed series by series (synchronous, so a scrape never sees a worker in neither place). */
export function sumSnapshots(snapshots: Snapshot[]): Snapshot {
  const byName = new Map<string, { metric: Metric; series: Map<string, Metric['values'][number]> }>();
  for (const snapshot of snapshots) {
    for (const m of snapshot) {
      let held = byName.get(m.name);
      if (!held) {
        held = { metric: { ...m, values: [] }, series: new Map() };
        byName.set(m.name, held);
      }
      for (const v of m.values) {
        const key = `${v.metricName ?? ''}\u0000${labelKey(v.labels)}`;
        const s = held.series.get(key);
        if (s) s.value += v.value;
        else held.series.set(key, { ...v, labels: { ...v.labels } });
      }
    }
  }
  return [...byName.values()].map(({ metric, series }) => ({ ...metric, values: [...series.values()] }));
}

function labelKey(labels: Record<string, unknown>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${String(labels[k])}`)
    .join('\u0001');
}
