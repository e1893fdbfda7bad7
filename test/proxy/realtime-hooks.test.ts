import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { RealtimeClient, refusedUpgrade } from '../helpers/realtime-client.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { acceptedEvents, FAST, SECRET, sample, scrape } from '../shipping/helpers.js';

const MODEL = 'gpt-4o-realtime-preview';
const SERVER = 2;
const INTERNAL = 1;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

/** Realtime records go where HTTP records go: the usage shipping sinks, and OpenTelemetry spans. */
describe('Realtime records through the hooks', () => {
  let st: ProxyStack;
  let hook: Receiver;
  let otlp: OtlpReceiver;

  beforeAll(async () => {
    hook = await startReceiver();
    otlp = await startOtlpReceiver();
    st = await startProxyStack({
      env: {
        ...FAST,
        SHIPPING_WEBHOOK_URL: hook.url,
        SHIPPING_WEBHOOK_SECRET: SECRET,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '20',
      },
    });
  });
  afterAll(async () => {
    await st?.stop();
    await hook?.close();
    await otlp?.close();
  });

  it('ships every response and the session to the webhook, counts their tokens, traces each session and response', async () => {
    const { id: tokenId, token } = await st.issueToken();
    const c = await RealtimeClient.open(`${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`, [], {
      headers: { authorization: `Bearer ${token}`, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
    });
    await c.event('session.created');
    c.send({ type: 'response.create' });
    await c.event('response.done');
    c.send({ type: 'response.create' });
    await c.event('response.done', 2);
    c.ws.close(1000);
    await c.whenClosed();

    const rows = await st.waitUsage(tokenId, 3);
    const session = rows.find((r) => r.status === 101);
    const responses = rows.filter((r) => r.status === 200);
    expect(responses).toHaveLength(2);

    // The webhook: the same three records, field for field where they overlap.
    await until(() => acceptedEvents(hook).filter((e) => e.token_id === tokenId).length === 3);
    const events = acceptedEvents(hook).filter((e) => e.token_id === tokenId);
    expect(new Set(events.map((e) => e.id))).toEqual(new Set(rows.map((r) => r.request_id)));
    for (const row of rows) {
      expect(events.find((e) => e.id === row.request_id)).toMatchObject({
        path: '/v1/realtime',
        status: row.status,
        total_tokens: row.total_tokens,
        finish_reason: row.finish_reason,
        cost_nano_usd: row.cost_nano_usd,
      });
    }

    // Prometheus: the responses' tokens and cost are in the usage counters, as a request's are.
    const metrics = await scrape(st);
    const sum = (f: (r: (typeof responses)[number]) => number) => responses.reduce((n, r) => n + f(r), 0);
    expect(sample(metrics, 'llm_proxy_tokens_total', { model: MODEL, kind: 'input' })).toBe(
      sum((r) => r.prompt_tokens ?? 0),
    );
    expect(sample(metrics, 'llm_proxy_tokens_total', { model: MODEL, kind: 'output' })).toBe(
      sum((r) => r.completion_tokens ?? 0),
    );
    expect(sample(metrics, 'llm_proxy_cost_usd_total', { model: MODEL })).toBeCloseTo(
      sum((r) => r.cost_nano_usd ?? 0) / 1e9,
      9,
    );

    // OpenTelemetry: the session is a SERVER span continuing the client's trace, its responses children.
    let server = otlp.spans().find((s) => s.attributes['llm_proxy.request.id'] === session?.request_id);
    await until(() => {
      server = otlp.spans().find((s) => s.attributes['llm_proxy.request.id'] === session?.request_id);
      return server !== undefined;
    });
    expect(server).toMatchObject({
      kind: SERVER,
      traceId: TRACE_ID,
      name: `realtime ${MODEL}`,
      attributes: expect.objectContaining({
        'http.response.status_code': 101,
        'gen_ai.response.finish_reasons': ['close_1000'],
        'llm_proxy.token.id': tokenId,
      }),
    });
    const children = otlp.spans().filter((s) => s.parentSpanId === server?.spanId);
    expect(children).toHaveLength(2);
    for (const child of children) {
      const row = responses.find((r) => r.request_id === child.attributes['llm_proxy.request.id']);
      expect(child).toMatchObject({ kind: INTERNAL, name: 'realtime.response', traceId: TRACE_ID });
      expect(child.attributes['gen_ai.usage.input_tokens']).toBe(row?.prompt_tokens);
      expect(child.attributes['gen_ai.usage.output_tokens']).toBe(row?.completion_tokens);
      expect(child.startNs).toBeGreaterThanOrEqual(server?.startNs ?? 0n);
      expect(child.endNs).toBeLessThanOrEqual(server?.endNs ?? 0n);
    }
  });

  it('counts refused upgrades with refused requests: the refusals metric and the audit summary', async () => {
    const ws = st.url.replace(/^http/, 'ws');
    const before = await scrape(st);
    const count = (text: string, reason: string) => sample(text, 'llm_proxy_refusals_total', { reason }) ?? 0;
    const pending = st.s.server.runtime.audit.refusals.pending;
    expect((await refusedUpgrade(`${ws}/v1/realtime?model=${MODEL}`, { authorization: 'Bearer nope' })).status).toBe(
      401,
    );
    const capped = await st.issueToken({ max_requests: 1 });
    const first = await RealtimeClient.open(`${ws}/v1/realtime?model=${MODEL}`, [], {
      headers: { authorization: `Bearer ${capped.token}` },
    });
    await first.event('session.created');
    const second = await refusedUpgrade(`${ws}/v1/realtime?model=${MODEL}`, {
      authorization: `Bearer ${capped.token}`,
    });
    expect(second.status).toBe(429);
    expect((await refusedUpgrade(`${ws}/v1/files`, { authorization: `Bearer ${capped.token}` })).status).toBe(404);
    first.ws.close(1000);
    await first.whenClosed();

    const after = await scrape(st);
    expect(count(after, 'invalid_api_key') - count(before, 'invalid_api_key')).toBe(1);
    expect(count(after, 'request_limit_reached') - count(before, 'request_limit_reached')).toBe(1);
    expect(count(after, 'unknown_url') - count(before, 'unknown_url')).toBe(1);
    // One summary row per token and reason: the unknown token's, the capped token's limit and path.
    expect(st.s.server.runtime.audit.refusals.pending).toBe(pending + 3);
  });
});
