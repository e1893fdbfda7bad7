import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/** The value of one sample line of Prometheus text (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /metrics', () => {
  let st: ProxyStack;
  const scrape = async () => {
    const res = await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };
  beforeAll(async () => {
    st = await startProxyStack({ env: { METRICS_MAX_LABEL_VALUES: '2', METRICS_LISTEN_ADDR: '127.0.0.1:0' } });
  });
  afterAll(() => st.stop());

  it('needs the management token on the main port', async () => {
    expect((await fetch(`${st.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${st.url}/metrics`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('counts requests, tokens, refusals and the process, with bounded labels', async () => {
    for (const model of ['gpt-4o-mini', 'gpt-4o', 'o3']) {
      const res = await st.proxy('/v1/chat/completions', json({ model, messages: [{ role: 'user', content: 'hi' }] }));
      expect(res.status).toBe(200);
      await st.recordOf(res);
    }
    const refused = await st.proxy('/v1/models', { token: 'sk-llmp-unknown-token' });
    expect(refused.status).toBe(401);
    await refused.text();
    await st.usage();

    const text = await scrape();
    const chat = { family: 'chat.completions', method: 'POST', status_class: '2xx' };
    // Two distinct models are kept (METRICS_MAX_LABEL_VALUES=2); the third counts as other.
    const models = ['gpt-4o-mini', 'gpt-4o', 'o3', 'other'].map(
      (m) => sample(text, 'llm_proxy_requests_total', { ...chat, model: m }) ?? 0,
    );
    expect(models.reduce((a, b) => a + b, 0)).toBe(3);
    expect(sample(text, 'llm_proxy_requests_total', { ...chat, model: 'other' })).toBe(1);
    expect(sample(text, 'llm_proxy_tokens_total', { kind: 'input' })).toBeGreaterThan(0);
    expect(sample(text, 'llm_proxy_tokens_total', { kind: 'output' })).toBeGreaterThan(0);
    expect(sample(text, 'llm_proxy_refusals_total', { reason: 'invalid_api_key' })).toBe(1);
    expect(sample(text, 'llm_proxy_request_duration_seconds_count', { family: 'chat.completions' })).toBe(3);
    expect(sample(text, 'llm_proxy_overhead_seconds_count', { family: 'chat.completions' })).toBe(3);
    expect(sample(text, 'llm_proxy_in_flight_requests')).toBe(0);
    expect(sample(text, 'llm_proxy_usage_records_written_total')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'llm_proxy_token_cache_misses_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    // Never a token or a key in a label.
    expect(text).not.toContain(st.token);
    expect(text).not.toContain('sk-llmp-unknown-token');
  });

  it('shows an event stream as open while it is sent, and the upstream connection slots', async () => {
    const res = await st.proxy('/v1/chat/completions', {
      ...json({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      headers: { 'content-type': 'application/json', 'x-mock-chunks': '3', 'x-mock-chunk-delay-ms': '300' },
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the stream has started
    const during = await scrape();
    expect(sample(during, 'llm_proxy_open_streams')).toBe(1);
    expect(sample(during, 'llm_proxy_in_flight_requests')).toBeGreaterThanOrEqual(1);
    expect(sample(during, 'llm_proxy_upstream_connections_busy')).toBe(1);
    expect(sample(during, 'llm_proxy_upstream_connections_max')).toBeGreaterThan(0);
    while (!(await reader.read()).done);
    const rec = await st.recordOf(res);
    const after = await scrape();
    expect(sample(after, 'llm_proxy_open_streams')).toBe(0);
    // Its pacing: chunks relayed, and its longest pause, which lies within first byte → end.
    const family = { family: 'chat.completions' };
    expect(sample(after, 'llm_proxy_stream_chunks_count', family)).toBe(1);
    const chunks = sample(after, 'llm_proxy_stream_chunks_sum', family) as number;
    expect(chunks).toBeGreaterThanOrEqual(1);
    expect(chunks).toBeLessThanOrEqual(rec.bytes_out);
    if (chunks > 1) {
      expect(sample(after, 'llm_proxy_stream_max_gap_seconds_count', family)).toBe(1);
      const gap = sample(after, 'llm_proxy_stream_max_gap_seconds_sum', family) as number;
      expect(gap).toBeGreaterThan(0);
      expect(gap * 1000).toBeLessThanOrEqual(rec.duration_ms - (rec.ttfb_ms as number) + 0.01);
    }
    // The upstream's rate-limit headers (the mock sends a quiet account's values).
    const upstream = { upstream: new URL(st.mock.url).origin };
    expect(sample(after, 'llm_proxy_upstream_ratelimit_remaining', { ...upstream, kind: 'requests' })).toBe(9999);
    expect(sample(after, 'llm_proxy_upstream_ratelimit_remaining', { ...upstream, kind: 'tokens' })).toBe(29999000);
    expect(sample(after, 'llm_proxy_upstream_ratelimit_limit', { ...upstream, kind: 'tokens' })).toBe(30000000);
    expect(sample(after, 'llm_proxy_upstream_connections_busy')).toBe(0);
    expect(sample(after, 'llm_proxy_usage_batches_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'llm_proxy_usage_write_retries_total')).toBe(0);
  });

  it('is served without a token on METRICS_LISTEN_ADDR, and only /metrics there', async () => {
    const url = st.s.server.metricsUrl as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('llm_proxy_requests_total');
    expect((await fetch(url.replace('/metrics', '/manage/projects'))).status).toBe(404);
  });

  it('spells not-a-number NaN, as the text format does (the event-loop mean is NaN between samples)', async () => {
    // Node samples the event loop every 10 ms; two scrapes closer than that see no sample, so the
    // mean and stddev gauges are NaN. Scrape back to back until that happens (the bound is a net).
    const value = /^(NaN|[+-]Inf|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$/;
    let sawNaN = false;
    for (let i = 0; i < 1000 && !sawNaN; i++) {
      const text = await scrape();
      for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        const v = line.slice(line.lastIndexOf(' ') + 1);
        expect([line, value.test(v)]).toEqual([line, true]);
        if (line.startsWith('nodejs_eventloop_lag_mean_seconds ') && v === 'NaN') sawNaN = true;
      }
    }
    expect(sawNaN).toBe(true);
  });
});
