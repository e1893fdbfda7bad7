/**
 * Writes the copies of deploy/prometheus/alerts.yml, the one source of the alert rules (the compose
 * Prometheus loads that file as it is): deploy/kubernetes/base/prometheusrule.yaml, the Prometheus
 * Operator's PrometheusRule for Kustomize, and deploy/helm/llm-proxy/files/alerts.yml, which the
 * Helm chart's PrometheusRule reads (a chart can read no file outside its folder). A
 * PrometheusRule's `spec` has the layout of a rules file, so the rules are copied line for line
 * under `spec:`. test/deploy/kubernetes.test.ts and helm.test.ts fail when a committed file differs
 * from what this writes. `--check` writes nothing and exits 1 when a file would change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SOURCE = 'deploy/prometheus/alerts.yml';
export const TARGET = 'deploy/kubernetes/base/prometheusrule.yaml';
export const CHART_TARGET = 'deploy/helm/llm-proxy/files/alerts.yml';

/** The PrometheusRule holding the rules of `alerts` (the text of a Prometheus rules file). */
export function prometheusRule(alerts) {
  // The file's own header comment stays there; the rules start at `groups:`.
  const start = alerts.search(/^groups:/m);
  if (start < 0) throw new Error(`${SOURCE}: no top-level "groups:"`);
  const rules = alerts
    .slice(start)
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
  return [
    `# Generated from ${SOURCE} by scripts/gen-prometheus-rule.mjs: edit that file, then run`,
    '# `node scripts/gen-prometheus-rule.mjs`.',
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: llm-proxy',
    'spec:',
    rules,
    '',
  ].join('\n');
}

/** The chart's copy: the rules file as it is, under a line that says where it comes from. */
export function chartRules(alerts) {
  return [
    `# Generated from ${SOURCE} by scripts/gen-prometheus-rule.mjs: edit that file, then run`,
    '# `node scripts/gen-prometheus-rule.mjs`.',
    alerts,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = new URL('../', import.meta.url);
  const alerts = readFileSync(new URL(SOURCE, root), 'utf8');
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [target, want] of [
    [TARGET, prometheusRule(alerts)],
    [CHART_TARGET, chartRules(alerts)],
  ]) {
    let have = '';
    try {
      have = readFileSync(new URL(target, root), 'utf8');
    } catch {}
    if (have === want) continue;
    stale++;
    if (check) process.stderr.write(`${target} is out of date: run node scripts/gen-prometheus-rule.mjs\n`);
    else {
      writeFileSync(new URL(target, root), want);
      process.stdout.write(`wrote ${target}\n`);
    }
  }
  if (check && stale > 0) process.exitCode = 1;
}
