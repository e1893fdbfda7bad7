import type { Registry } from 'prom-client';

/**
 * Counters and histograms for the request path. prom-client validates and hashes the label object
 * on every `inc`/`observe` (about 1 µs each, and a request makes about ten); these keep one record
 * per series in a Map under a key the caller builds (label values joined), so an update is a Map
 * lookup and an addition. prom-client still renders them: each registers as a metric whose `get()`
 * returns the same shape prom-client's own produce, read only at scrape time.
 *
 * A series' key is its label values, in label-name order, joined with SEP (`seriesKey`); label
 * values never hold SEP (they are ids, codes, origins, and model names with SEP replaced).
 */

/** Separates label values in a series key: a control character no label value contains. */
export const SEP = '\u0001';

type Labels = Record<string, string>;

interface MetricObject {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { metricName?: string; labels: Labels | Record<string, string | number>; value: number }[];
}

/** Label names paired with the values of a series key, in order. */
function labelsOf(names: readonly string[], key: string): Labels {
  const values = key.split(SEP);
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) labels[names[i] as string] = values[i] as string;
  return labels;
}

abstract class FastMetric<S> {
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, S>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
  ) {
    // biome-ignore lint/suspicious/noExplicitAny: prom-client's registry accepts any object shaped like a metric
    registry.registerMetric(this as any);
  }

  reset(): void {
    this.series.clear();
  }

  abstract get(): MetricObject;
}

export class FastCounter extends FastMetric<{ labels: Labels; value: number }> {
  /** Adds `by` to the series whose label values `key` joins (see SEP). */
  inc(key: string, by = 1): void {
    let s = this.series.get(key);
    if (!s) {
      s = { labels: labelsOf(this.labelNames, key), value: 0 };
      this.series.set(key, s);
    }
    s.value += by;
  }

  get(): MetricObject {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      aggregator: this.aggregator,
      values: [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value })),
    };
  }
}

interface HistogramSeries {
  labels: Labels;
  /** Per bucket (not cumulative); the last is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram extends FastMetric<HistogramSeries> {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    super(registry, name, help, labelNames);
  }

  observe(key: string, v: number): void {
    let s = this.series.get(key);
    if (!s) {
      s = {
        labels: labelsOf(this.labelNames, key),
        counts: new Float64Array(this.buckets.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < this.buckets.length && v > (this.buckets[i] as number)) i++;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += v;
    s.count++;
  }

  get(): MetricObject {
    const values: MetricObject['values'] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i] as number;
        const le = i < this.buckets.length ? (this.buckets[i] as number) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: this.aggregator, values };
  }
}
