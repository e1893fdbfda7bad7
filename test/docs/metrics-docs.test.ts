import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

/** Metrics the WORKERS primary adds to the host's merged /metrics (no single server has them). */
const primaryMetrics = () =>
  [...readFileSync('src/cluster/primary.ts', 'utf8').matchAll(/name: '(llm_proxy_\w+)'/g)].map((m) => m[1] as string);

/**
 * Every name in the first column of docs/observability.md's metrics table. A cell may name several,
 * later ones abbreviated: "`llm_proxy_usage_records_written_total`, `…_dropped_total`" is the
 * first with its last segments replaced by as many segments as the abbreviation has.
 */
const documented = () => {
  const names = new Set<string>();
  for (const row of readFileSync('docs/observability.md', 'utf8').matchAll(/^\| (`llm_proxy_[^|]*)\|/gm)) {
    const cell = [...(row[1] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    const first = (cell[0] as string).split('_');
    for (const name of cell) {
      const short = name.startsWith('…_') ? name.slice(2).split('_') : undefined;
      names.add(short ? [...first.slice(0, first.length - short.length), ...short].join('_') : name);
    }
  }
  return names;
};

describe('docs/observability.md', () => {
  let s: TestServer | undefined;
  beforeAll(async () => {
    // With Redis and per-token labels the server registers every metric it has.
    if (!(await serviceAvailable('redis'))) return;
    s = await startTestServer({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_RECONCILE_INTERVAL_MS: '0',
      METRICS_TOKEN_LABELS: 'true',
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('documents every metric the server exports, and no metric that does not exist', async (ctx) => {
    if (!s) return ctx.skip();
    const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.managementToken}` } });
    const exported = new Set([
      ...[...(await res.text()).matchAll(/^# HELP (llm_proxy_\w+)/gm)].map((m) => m[1] as string),
      ...primaryMetrics(),
    ]);
    const docs = documented();
    expect([...exported].filter((n) => !docs.has(n)).sort()).toEqual([]);
    expect([...docs].filter((n) => !exported.has(n)).sort()).toEqual([]);
  });
});
