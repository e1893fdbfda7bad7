import { Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PrometheusRegistry } from './prometheus-registry.js';

describe('PrometheusRegistry', () => {
  it('writes NaN, +Inf and -Inf as the text format spells them, and leaves help text alone', async () => {
    const registry = new PrometheusRegistry();
    const g = new Gauge({ name: 'x_value', help: 'Not a number: Nan', labelNames: ['k'], registers: [registry] });
    g.set({ k: 'nan' }, Number.NaN);
    g.set({ k: 'pos' }, Number.POSITIVE_INFINITY);
    g.set({ k: 'neg' }, Number.NEGATIVE_INFINITY);
    g.set({ k: 'Nan' }, 1.5);
    expect(await registry.metrics()).toBe(
      [
        '# HELP x_value Not a number: Nan',
        '# TYPE x_value gauge',
        'x_value{k="nan"} NaN',
        'x_value{k="pos"} +Inf',
        'x_value{k="neg"} -Inf',
        'x_value{k="Nan"} 1.5',
        '',
      ].join('\n'),
    );
  });
});
