import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { acceptedEvents, FAST, ids, SECRET, sample, scrape, traffic } from './helpers.js';

// A receiver's key in the URL's query: never logged either.
const QUERY_SECRET = 'rx-query-secret-77';
registerSecret(QUERY_SECRET);

/** The webhook sink end to end: the official client → proxy → mock upstream; events → a real receiver. */
describe('log shipping to a webhook', () => {
  let rx: Receiver;
  let st: ProxyStack;
  const health = async () => (await (await fetch(`${st.url}/health`)).json()) as { sinks: Record<string, any> };

  beforeAll(async () => {
    rx = await startReceiver();
    st = await startProxyStack({
      env: {
        ...FAST,
        // The URL may carry a path and a query (some receivers put their key there): never logged.
        SHIPPING_WEBHOOK_URL: `${rx.url}/ingest?key=${QUERY_SECRET}`,
        SHIPPING_WEBHOOK_SECRET: SECRET,
        SHIPPING_BATCH_SIZE: '4',
      },
    });
  });
  afterAll(async () => {
    await st?.stop();
    await rx?.close();
  });

  it('delivers every finished exchange once or more, signed, with unique ids and the usage record as v1 fields', async () => {
    await traffic(st.client, 12);
    // An upstream failure is an event too.
    await expect(
      st.client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fail' }] },
        { headers: { 'x-mock-status': '500' } },
      ),
    ).rejects.toThrow();
    const rows = await st.waitUsage(st.tokenId, 13);
    await until(() => ids(acceptedEvents(rx)).size >= 13);

    const events = acceptedEvents(rx);
    expect(ids(events)).toEqual(new Set(rows.map((r) => r.request_id)));
    for (const r of rx.requests) expect(r.path).toBe(`/ingest?key=${QUERY_SECRET}`);
    // Batches of at most SHIPPING_BATCH_SIZE.
    expect(Math.max(...rx.accepted().map((r) => JSON.parse(r.body).events.length))).toBeLessThanOrEqual(4);

    for (const row of rows) {
      const e = events.find((x) => x.id === row.request_id);
      expect(e).toEqual({
        schema: 'llm-proxy.usage/v1',
        id: row.request_id,
        time: new Date(row.created_at).toISOString(),
        token_id: st.tokenId,
        project_id: st.projectId,
        method: row.method,
        path: row.path,
        model: row.model,
        status: row.status,
        stream: row.is_stream === 1,
        usage_status: row.usage_status,
        prompt_tokens: row.prompt_tokens,
        completion_tokens: row.completion_tokens,
        total_tokens: row.total_tokens,
        cached_tokens: row.cached_tokens,
        reasoning_tokens: row.reasoning_tokens,
        cost_micro_usd: row.cost_nano_usd === null ? null : Math.round(row.cost_nano_usd / 1000),
        finish_reason: row.finish_reason,
        error: row.error,
        upstream_ms: row.upstream_ms,
        ttfb_ms: row.ttfb_ms,
        duration_ms: row.duration_ms,
        bytes_in: row.bytes_in,
        bytes_out: row.bytes_out,
        upstream_key_id: row.upstream_key_id,
        service_tier: row.service_tier,
        billed_units: row.billed_units,
        upstream_request_id: row.upstream_request_id,
        cost_nano_usd: row.cost_nano_usd,
      });
      expect(e?.upstream_key_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(events.some((e) => e.stream === true && e.path === '/v1/chat/completions')).toBe(true);
    expect(events.some((e) => e.path === '/v1/embeddings')).toBe(true);
    expect(events.some((e) => e.status === 500)).toBe(true);
  });

  it('shows the sink in /health and in the metrics', async () => {
    await until(async () => (await health()).sinks.webhook?.queue_depth === 0);
    const sink = (await health()).sinks.webhook;
    expect(sink).toEqual({
      queue_depth: 0,
      spilled_bytes: 0,
      last_error: null,
      last_error_at: null,
      last_success_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const text = await scrape(st);
    expect(sample(text, 'llm_proxy_shipping_events_shipped_total', { sink: 'webhook' })).toBeGreaterThanOrEqual(13);
    expect(sample(text, 'llm_proxy_shipping_queue_depth', { sink: 'webhook' })).toBe(0);
    expect(sample(text, 'llm_proxy_shipping_events_dropped_total', { sink: 'webhook', reason: 'queue_full' })).toBe(0);
    expect(sample(text, 'llm_proxy_shipping_events_dead_lettered_total', { sink: 'webhook' })).toBe(0);
  });

  it('logs neither the secret nor the URL', () => {
    const logs = st.s.logs();
    expect(logs).toContain('log shipping: on');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(QUERY_SECRET);
  });
});
