import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram, SEP } from './fast-metrics.js';

/** The fast metrics must render exactly what prom-client's own render for the same updates. */
describe('fast metrics', () => {
  it('render the same text as prom-client counters and histograms', async () => {
    const fast = new Registry();
    const slow = new Registry();
    const buckets = [0.01, 0.1, 1];
    const fc = new FastCounter(fast, 'x_total', 'Things.', ['family', 'model']);
    const fh = new FastHistogram(fast, 'x_seconds', 'Time.', ['family'], buckets);
    const sc = new Counter({ name: 'x_total', help: 'Things.', labelNames: ['family', 'model'], registers: [slow] });
    const sh = new Histogram({ name: 'x_seconds', help: 'Time.', labelNames: ['family'], buckets, registers: [slow] });
    const updates: [string, string, number][] = [
      ['chat', 'gpt-4o', 0.005],
      ['chat', 'gpt-4o', 0.1],
      ['chat', 'o3 "quoted"\\n', 2],
      ['embeddings', 'gpt-4o', 0.5],
      ['chat', 'gpt-4o', 0.01],
    ];
    for (const [family, model, v] of updates) {
      fc.inc(`${family}${SEP}${model}`, 3);
      sc.inc({ family, model }, 3);
      fh.observe(family, v);
      sh.observe({ family }, v);
    }
    expect(await fast.metrics()).toBe(await slow.metrics());
    fast.resetMetrics();
    expect(await fast.metrics()).toBe(
      '# HELP x_total Things.\n# TYPE x_total counter\n\n# HELP x_seconds Time.\n# TYPE x_seconds histogram\n',
    );
  });
});
