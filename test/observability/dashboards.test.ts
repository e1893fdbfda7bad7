import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';

/** The Grafana dashboard and the alert rules use exactly the metrics and labels the process exports. */
describe('deploy/grafana and deploy/prometheus', () => {
  const root = new URL('../../', import.meta.url);
  const dashboard = JSON.parse(readFileSync(new URL('deploy/grafana/llm-proxy.json', root), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const alerts = readFileSync(new URL('deploy/prometheus/alerts.yml', root), 'utf8');
  const expressions = [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...[...alerts.matchAll(/^\s*expr: (.+)$/gm)].map((m) => m[1] as string),
  ];

  it('names only metrics and labels that exist', async () => {
    const metrics = new Metrics(
      { tokenLabels: true, maxLabelValues: 10 },
      {
        inFlight: () => 0,
        usagePending: () => 0,
        usageWritten: () => 0,
        usageDropped: () => 0,
        usageBatches: () => 0,
        usageRetries: () => 0,
        upstreams: () => [],
        tokenCache: () => ({ hits: 0, misses: 0 }),
        budgets: () => [],
      },
    );
    const exported = await metrics.registry.getMetricsAsJSON();
    const names = new Set<string>();
    const labels = new Set<string>(['le']);
    for (const m of exported) {
      names.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    }
    for (const m of metrics.registry.getMetricsAsArray()) {
      for (const l of (m as unknown as { labelNames: string[] }).labelNames ?? []) labels.add(l);
    }
    expect(expressions.length).toBeGreaterThan(15);
    const unknown: string[] = [];
    for (const expr of expressions) {
      for (const [name] of expr.matchAll(/\b(?:llm_proxy|nodejs|process)_[a-z_]+\b/g)) {
        if (!names.has(name)) unknown.push(`${name} in ${expr}`);
      }
      const used = [
        ...[...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => (m[1] as string).split(',').map((l) => l.trim())),
        ...[...expr.matchAll(/[{,]\s*([a-z_]+)\s*=~?"/g)].map((m) => m[1] as string),
      ];
      for (const l of used) if (!labels.has(l)) unknown.push(`label ${l} in ${expr}`);
    }
    expect(unknown).toEqual([]);
  });
});
