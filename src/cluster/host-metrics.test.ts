import { describe, expect, it } from 'vitest';
import { HostMetrics, sumSnapshots } from './host-metrics.js';
import type { Snapshot } from './messages.js';

/** A worker's registry as getMetricsAsJSON gives it: a counter, a histogram and a gauge. */
function snapshot(requests: number, inFlight: number, durations: number[]): Snapshot {
  const le1 = durations.filter((d) => d <= 1).length;
  return [
    {
      name: 'requests_total',
      help: 'Requests.',
      type: 'counter',
      aggregator: 'sum',
      values: [{ labels: { status: '2xx' }, value: requests }],
    },
    {
      name: 'duration_seconds',
      help: 'Duration.',
      type: 'histogram',
      aggregator: 'sum',
      values: [
        { metricName: 'duration_seconds_bucket', labels: { le: 1 }, value: le1 },
        { metricName: 'duration_seconds_bucket', labels: { le: '+Inf' }, value: durations.length },
        { metricName: 'duration_seconds_sum', labels: {}, value: durations.reduce((a, b) => a + b, 0) },
        { metricName: 'duration_seconds_count', labels: {}, value: durations.length },
      ],
    },
    {
      name: 'in_flight',
      help: 'In flight.',
      type: 'gauge',
      aggregator: 'sum',
      values: [{ labels: {}, value: inFlight }],
    },
  ];
}

const sample = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}"+]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

describe('HostMetrics: the whole host from every worker', () => {
  it('sums counters, histograms and gauges of the live workers', async () => {
    const host = new HostMetrics();
    host.update(0, snapshot(3, 1, [0.5, 2]));
    host.update(1, snapshot(4, 2, [0.1]));
    const text = await host.text();
    expect(sample(text, 'requests_total{status="2xx"}')).toBe(7);
    expect(sample(text, 'duration_seconds_bucket{le="1"}')).toBe(2);
    expect(sample(text, 'duration_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(sample(text, 'duration_seconds_count')).toBe(3);
    expect(sample(text, 'in_flight')).toBe(3);
  });

  it("keeps a dead worker's counters and histograms (never its gauges), so totals never go down", async () => {
    const host = new HostMetrics();
    host.update(0, snapshot(3, 1, [0.5]));
    host.update(1, snapshot(4, 2, [0.1, 0.2]));
    const before = await host.text();
    host.retire(1);
    const after = await host.text();
    expect(sample(after, 'requests_total{status="2xx"}')).toBe(sample(before, 'requests_total{status="2xx"}'));
    expect(sample(after, 'duration_seconds_count')).toBe(3);
    expect(sample(after, 'in_flight')).toBe(1);
    // Its replacement counts from zero, on top; and a second death folds in as well.
    host.update(1, snapshot(2, 0, [3]));
    expect(sample(await host.text(), 'requests_total{status="2xx"}')).toBe(9);
    host.retire(1);
    host.retire(0);
    const none = await host.text();
    expect(sample(none, 'requests_total{status="2xx"}')).toBe(9);
    expect(sample(none, 'duration_seconds_bucket{le="+Inf"}')).toBe(4);
  });

  it('adds the series of snapshots by name and labels, whatever their label order', () => {
    const a: Snapshot = [
      { name: 'c', help: 'c', type: 'counter', aggregator: 'sum', values: [{ labels: { a: '1', b: '2' }, value: 1 }] },
    ];
    const b: Snapshot = [
      {
        name: 'c',
        help: 'c',
        type: 'counter',
        aggregator: 'sum',
        values: [
          { labels: { b: '2', a: '1' }, value: 2 },
          { labels: { a: '9', b: '2' }, value: 5 },
        ],
      },
    ];
    expect(sumSnapshots([a, b])[0]?.values).toEqual([
      { labels: { a: '1', b: '2' }, value: 3 },
      { labels: { a: '9', b: '2' }, value: 5 },
    ]);
  });
});
