import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { UsageTotals } from '../api/types';
import { Card, Empty, ErrorNote, Loading, Meter, PageHead, Segmented, Stat } from '../components/ui';
import { UsageChart } from '../components/usage-chart';
import { compact, count, ms, percent, usd } from '../lib/format';
import { useLoad, useTitle } from '../lib/hooks';
import { RANGES, type RangeKey, windowOf } from '../lib/range';
import { href, setQuery, useRoute } from '../router';

const TOP = 5;

/** One request per load: the server folds series, totals, latency and the top lists from the rollups. */
async function loadDashboard(range: RangeKey) {
  const w = windowOf(range);
  const overview = await ok(
    api.GET('/manage/usage/overview', {
      params: { query: { from: String(w.from), to: String(w.to), bucket: w.bucket, top: TOP } },
    }),
  );
  return { w, overview };
}

interface Health {
  status: string;
  in_flight: number;
  version: string;
  usage: { pending: number };
}

async function loadHealth(): Promise<Health> {
  const res = await fetch('/health', { credentials: 'omit' });
  return (await res.json()) as Health;
}

function TopList<R extends UsageTotals>(props: {
  title: string;
  rows: R[];
  name: (g: R) => ComponentChildren;
  empty: string;
}) {
  const max = Math.max(...props.rows.map((r) => r.cost_nano_usd), 0);
  const maxReq = Math.max(...props.rows.map((r) => r.requests), 0);
  return (
    <Card title={props.title} sub="By cost, then requests">
      {props.rows.length === 0 ? (
        <p class="muted small">{props.empty}</p>
      ) : (
        <div class="bars">
          {props.rows.map((r, i) => (
            <div key={i} class="bar-row">
              <span class="bar-name">{props.name(r)}</span>
              <span class="bar-value">
                {usd(r.cost_usd)} · {compact(r.requests)} req
              </span>
              <Meter
                fraction={max > 0 ? r.cost_nano_usd / max : maxReq > 0 ? r.requests / maxReq : 0}
                label={`Share of ${props.title}`}
                share
              />
            </div>
          ))}
        </div>
      )}
    </Card>
  );
}

export function DashboardPage() {
  useTitle('Dashboard');
  const route = useRoute();
  const range = (RANGES.find((r) => r.value === route.query.get('range'))?.value ?? '24h') as RangeKey;
  const data = useLoad(() => loadDashboard(range), [range], 30_000);
  const health = useLoad(loadHealth, [], 5_000);
  const [metric, setMetric] = useState<'requests' | 'tokens' | 'cost'>('requests');
  const d = data.data;
  const t = d?.overview.totals;
  const latency = d?.overview.latency_ms;
  const hasTraffic = (t?.requests ?? 0) > 0;

  const errorRate = useMemo(() => (t && t.requests > 0 ? percent(t.errors, t.requests) : '–'), [t]);

  return (
    <>
      <PageHead title="Dashboard" sub="Traffic through the proxy, from the hourly usage rollups.">
        <Segmented label="Time range" value={range} options={RANGES} onChange={(r) => setQuery({ range: r })} />
      </PageHead>
      <ErrorNote error={data.error} onRetry={data.reload} />
      <div class="stack">
        <div class="grid grid-4">
          <Stat
            label="Requests"
            value={t ? compact(t.requests) : '…'}
            sub={t ? `${count(t.errors)} errors (${errorRate})` : ' '}
            testId="stat-requests"
          />
          <Stat
            label="Tokens"
            value={t ? compact(t.total_tokens) : '…'}
            sub={t ? `${compact(t.prompt_tokens)} in · ${compact(t.completion_tokens)} out` : ' '}
          />
          <Stat
            label="Cost"
            value={t ? usd(t.cost_usd) : '…'}
            sub={
              t
                ? t.unpriced_requests > 0
                  ? `${count(t.unpriced_requests)} requests without a price`
                  : 'all requests priced'
                : ' '
            }
            testId="stat-cost"
          />
          <Stat
            label="In flight now"
            value={health.data ? count(health.data.in_flight) : '…'}
            sub={
              health.data
                ? `server ${health.data.status}, v${health.data.version}`
                : health.error
                  ? 'health unavailable'
                  : ' '
            }
            testId="stat-inflight"
          />
        </div>
        <Card
          title="Over time"
          sub={d ? `Per ${d.w.bucket}, ${RANGES.find((r) => r.value === range)?.label}` : undefined}
          actions={
            <Segmented
              label="Chart"
              value={metric}
              onChange={setMetric}
              options={[
                { value: 'requests', label: 'Requests' },
                { value: 'tokens', label: 'Tokens' },
                { value: 'cost', label: 'Cost' },
              ]}
            />
          }
        >
          {!d ? (
            <Loading rows={4} label="Loading usage" />
          ) : !hasTraffic ? (
            <Empty
              icon="dashboard"
              title="No traffic in this range"
              action={
                <a class="btn btn-primary" href={href('/try')}>
                  Send a test request
                </a>
              }
            >
              Requests through the proxy appear here within seconds. Create a project and a token, then point an OpenAI
              SDK at this server.
            </Empty>
          ) : (
            <UsageChart entries={d.overview.series} window={d.w} metric={metric} />
          )}
        </Card>
        <div class="grid grid-3">
          <Card title="Latency" sub="Percentiles over the range">
            {latency ? (
              <dl class="kv">
                <dt>p50</dt>
                <dd>{ms(latency.p50)}</dd>
                <dt>p90</dt>
                <dd>{ms(latency.p90)}</dd>
                <dt>p99</dt>
                <dd>{ms(latency.p99)}</dd>
                <dt>Average</dt>
                <dd>{ms(t?.avg_duration_ms)}</dd>
              </dl>
            ) : (
              <Loading rows={3} />
            )}
          </Card>
          {d ? (
            <>
              <TopList
                title="Top projects"
                rows={d.overview.top.projects}
                empty="No project had traffic."
                name={(g) =>
                  g.project_name ? (
                    <a href={href(`/projects/${g.project_id}`)}>{g.project_name}</a>
                  ) : (
                    <span class="muted">deleted project</span>
                  )
                }
              />
              <TopList
                title="Top models"
                rows={d.overview.top.models}
                empty="No model was used."
                name={(g) => g.model ?? <span class="muted">no model</span>}
              />
            </>
          ) : (
            <>
              <Card title="Top projects">
                <Loading rows={3} />
              </Card>
              <Card title="Top models">
                <Loading rows={3} />
              </Card>
            </>
          )}
        </div>
        {d && (
          <TopList
            title="Top tokens"
            rows={d.overview.top.tokens}
            empty="No token was used."
            name={(g) => (
              <a href={href(`/tokens/${g.token_id}`)}>
                {g.token_name ?? 'unnamed token'} <span class="muted">· {g.project_name ?? 'deleted project'}</span>
              </a>
            )}
          />
        )}
      </div>
    </>
  );
}
