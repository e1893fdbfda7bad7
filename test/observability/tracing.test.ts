import { randomBytes, randomUUID } from 'node:crypto';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';

/** A collector's credential, sent as an export header: it must appear nowhere but in those requests. */
const COLLECTOR_KEY = 'collector-secret-1f2e9d8c';
registerSecret(COLLECTOR_KEY);

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/** Env that points the proxy at the receiver over OTLP/HTTP JSON, exporting often. */
const otlp = (rx: OtlpReceiver, more: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${COLLECTOR_KEY}`,
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=ml%20ops',
  OTEL_BSP_SCHEDULE_DELAY: '20',
  OTEL_METRIC_EXPORT_INTERVAL: '100',
  ...more,
});

/** Waits for the server span of a request (by the proxy's request id) and returns it. */
async function serverSpan(rx: OtlpReceiver, requestId: string): Promise<ReceivedSpan> {
  let found: ReceivedSpan | undefined;
  await until(() => {
    found = rx.spans().find((s) => s.kind === SERVER && s.attributes['llm_proxy.request.id'] === requestId);
    return found !== undefined;
  });
  return found as ReceivedSpan;
}

/** Waits for the client spans under a server span. */
async function clientSpans(rx: OtlpReceiver, parent: ReceivedSpan, count = 1): Promise<ReceivedSpan[]> {
  let found: ReceivedSpan[] = [];
  await until(() => {
    found = rx.spans().filter((s) => s.kind === CLIENT && s.parentSpanId === parent.spanId);
    return found.length >= count;
  });
  return found;
}

/** The `proxy request` or `proxy refused` log line of a request. */
function logLine(st: ProxyStack, requestId: string, msg: string): Record<string, unknown> | undefined {
  return st.s
    .logs()
    .split('\n')
    .filter((l) => l.includes(requestId) && l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
}

/** The headers the mock upstream received with the request tagged `x-test-case: tag`. */
function upstreamHeaders(st: ProxyStack, tag: string): Record<string, string> | undefined {
  return st.mock.requests().find((r) => r.headers['x-test-case'] === tag)?.headers;
}

describe('OpenTelemetry tracing (OTLP/HTTP JSON to a real receiver)', () => {
  let rx: OtlpReceiver;
  let st: ProxyStack;
  beforeAll(async () => {
    rx = await startOtlpReceiver();
    st = await startProxyStack({ env: otlp(rx) });
  });
  afterAll(async () => {
    await st?.stop();
    await rx?.close();
  });

  it('gives a chat request a GenAI server span, the upstream call a client child span, and the upstream our trace context', async () => {
    const tag = randomUUID();
    const { data, response } = await st.client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-test-case': tag } },
      )
      .withResponse();
    const requestId = response.headers.get('x-llm-proxy-request-id') as string;
    const server = await serverSpan(rx, requestId);
    expect(server.name).toBe('chat gpt-4o-mini');
    expect(server.parentSpanId).toBeUndefined();
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': data.model,
      'gen_ai.usage.input_tokens': data.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': data.usage?.completion_tokens,
      'gen_ai.response.finish_reasons': [data.choices[0]?.finish_reason],
      'gen_ai.request.stream': false,
      'http.request.method': 'POST',
      'url.path': '/v1/chat/completions',
      'http.response.status_code': 200,
      'llm_proxy.token.id': st.tokenId,
      'llm_proxy.project.id': st.projectId,
      'llm_proxy.usage.status': 'reported',
    });
    expect(server.attributes).not.toHaveProperty('error.type');
    expect(server.status).toBe(0);
    expect(server.resource).toMatchObject({
      'service.name': 'llm-proxy',
      'deployment.environment.name': 'test',
      team: 'ml ops',
    });

    const [client] = await clientSpans(rx, server);
    expect(client?.traceId).toBe(server.traceId);
    expect(client?.name).toBe('chat gpt-4o-mini');
    expect(client?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.output_tokens': data.usage?.completion_tokens,
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'server.port': st.mock.port,
      'url.full': `${st.mock.url}/v1/chat/completions`,
    });
    // The client span lies within the server span.
    expect((client as ReceivedSpan).startNs).toBeGreaterThanOrEqual(server.startNs);
    expect((client as ReceivedSpan).endNs).toBeLessThanOrEqual(server.endNs);

    // The upstream was called in the client span's context.
    expect(upstreamHeaders(st, tag)?.traceparent).toBe(`00-${server.traceId}-${client?.spanId}-01`);
    // The access line names the server span.
    expect(logLine(st, requestId, 'proxy request')).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
  });

  it('gives a streamed chat request its stream, time to first chunk, usage and finish reason', async () => {
    const stream = await st.client.chat.completions
      .create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream please' }] })
      .withResponse();
    let finish: string | null | undefined;
    for await (const chunk of stream.data) finish = chunk.choices[0]?.finish_reason ?? finish;
    const requestId = stream.response.headers.get('x-llm-proxy-request-id') as string;
    const server = await serverSpan(rx, requestId);
    const row = await st.recordOf(stream.response);
    expect(server.name).toBe('chat gpt-4o-mini');
    expect(server.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': row.prompt_tokens,
      'gen_ai.usage.output_tokens': row.completion_tokens,
      'gen_ai.response.finish_reasons': [finish],
      'http.response.status_code': 200,
    });
    const ttfc = server.attributes['gen_ai.response.time_to_first_chunk'] as number;
    expect(ttfc).toBeGreaterThan(0);
    expect(ttfc * 1e9).toBeLessThanOrEqual(Number(server.endNs - server.startNs));
    const [client] = await clientSpans(rx, server);
    expect(client?.attributes['gen_ai.response.finish_reasons']).toEqual([finish]);
    // The proxy's own details are on the server span only.
    expect(client?.attributes).not.toHaveProperty('llm_proxy.usage.status');
    expect(logLine(st, requestId, 'proxy request')).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
  });

  it('gives a refused request a server span with error.type and no client span', async () => {
    const err = await st
      .clientFor('sk-llmp-not-a-token-of-ours')
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    const requestId = (err as APIError).headers?.get('x-llm-proxy-request-id') as string;
    const server = await serverSpan(rx, requestId);
    expect(server.name).toBe('chat');
    expect(server.attributes).toMatchObject({
      'error.type': 'invalid_api_key',
      'http.response.status_code': 401,
      'gen_ai.operation.name': 'chat',
    });
    // A 4xx is the client's mistake: the span is not in error (HTTP server conventions).
    expect(server.status).toBe(0);
    expect(rx.spans().filter((s) => s.parentSpanId === server.spanId)).toEqual([]);
    expect(logLine(st, requestId, 'proxy refused')).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
  });

  it('marks an unreachable upstream as an error on both spans', async () => {
    const { closedPort } = await import('../helpers/proxy.js');
    const dead = await st.addProject('dead-upstream', `http://127.0.0.1:${await closedPort()}`);
    const err = await st
      .clientFor(dead.token)
      .embeddings.create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((e: unknown) => e);
    expect((err as APIError).status).toBe(502);
    const server = await serverSpan(rx, (err as APIError).headers?.get('x-llm-proxy-request-id') as string);
    expect(server.name).toBe('embeddings');
    expect(server.attributes).toMatchObject({ 'error.type': 'upstream_unavailable', 'http.response.status_code': 502 });
    expect(server.status).toBe(ERROR);
    const [client] = await clientSpans(rx, server);
    expect(client?.attributes['error.type']).toBe('upstream_unavailable');
    expect(client?.attributes).not.toHaveProperty('http.response.status_code');
    expect(client?.status).toBe(ERROR);
  });

  it("continues a client's traceparent and passes its tracestate on", async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const tag = randomUUID();
    const { response } = await st.client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
        { headers: { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=abc', 'x-test-case': tag } },
      )
      .withResponse();
    const server = await serverSpan(rx, response.headers.get('x-llm-proxy-request-id') as string);
    expect(server.traceId).toBe(traceId);
    expect(server.parentSpanId).toBe(parentId);
    const [client] = await clientSpans(rx, server);
    const sent = upstreamHeaders(st, tag);
    expect(sent?.traceparent).toBe(`00-${traceId}-${client?.spanId}-01`);
    expect(sent?.tracestate).toBe('vendor=abc');
  });

  it('records nothing for a trace the client did not sample, but still passes its trace id upstream', async () => {
    const traceId = randomBytes(16).toString('hex');
    const tag = randomUUID();
    const { response } = await st.client.models
      .list({ headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-00`, 'x-test-case': tag } })
      .withResponse();
    expect(response.status).toBe(200);
    const sent = upstreamHeaders(st, tag)?.traceparent as string;
    expect(sent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    // A later request's span arrives, and none of this trace did (spans are exported in order).
    const later = await st.client.models.list().withResponse();
    await serverSpan(rx, later.response.headers.get('x-llm-proxy-request-id') as string);
    expect(rx.spans().filter((s) => s.traceId === traceId)).toEqual([]);
  });

  it('traces management requests by route, with trace ids in their log line', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await fetch(`${st.url}/manage/tokens/${st.tokenId}`, {
      headers: { authorization: `Bearer ${st.s.managementToken}`, traceparent: `00-${traceId}-${parentId}-01` },
    });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-llm-proxy-request-id') as string;
    const span = await serverSpan(rx, requestId);
    expect(span.name).toBe('GET /manage/tokens/:id');
    expect(span.traceId).toBe(traceId);
    expect(span.parentSpanId).toBe(parentId);
    expect(span.attributes).toMatchObject({
      'http.route': '/manage/tokens/:id',
      'http.response.status_code': 200,
      'url.path': `/manage/tokens/${st.tokenId}`,
    });
    expect(logLine(st, requestId, 'request')).toMatchObject({ trace_id: traceId, span_id: span.spanId });

    const denied = await fetch(`${st.url}/manage/projects`, { headers: { authorization: 'Bearer wrong' } });
    expect(denied.status).toBe(401);
    const deniedSpan = await serverSpan(rx, denied.headers.get('x-llm-proxy-request-id') as string);
    expect(deniedSpan.attributes['http.response.status_code']).toBe(401);
  });

  it('sends the configured headers with every export, and never puts them in a span or a log line', async () => {
    await until(() => rx.requests().some((r) => r.path === '/v1/traces'));
    for (const r of rx.requests()) expect(r.headers['x-collector-key']).toBe(COLLECTOR_KEY);
    const spans = JSON.stringify(rx.spans(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(spans).not.toContain(COLLECTOR_KEY);
    expect(spans).not.toContain(st.token);
    expect(spans).not.toContain(st.s.managementToken);
    expect(spans).not.toContain(UPSTREAM_KEY);
    expect(st.s.logs()).not.toContain(COLLECTOR_KEY);
  });

  it('exports the GenAI metrics with their attributes', async () => {
    // Every request above has ended; the metrics reader exports every 100 ms.
    const has = (metric: string, attrs: Record<string, unknown>) =>
      rx.points().some((p) => p.metric === metric && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
    const chat = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
    };
    await until(
      () =>
        has('gen_ai.client.token.usage', { ...chat, 'gen_ai.token.type': 'input' }) &&
        has('gen_ai.client.token.usage', { ...chat, 'gen_ai.token.type': 'output' }) &&
        has('gen_ai.server.request.duration', chat) &&
        has('gen_ai.server.time_to_first_token', chat) &&
        has('gen_ai.server.time_per_output_token', chat) &&
        has('gen_ai.server.request.duration', { 'error.type': 'invalid_api_key' }) &&
        has('gen_ai.server.request.duration', {
          'gen_ai.operation.name': 'embeddings',
          'error.type': 'upstream_unavailable',
        }),
    );
    const duration = rx
      .points()
      .find((p) => p.metric === 'gen_ai.server.request.duration' && !p.attributes['error.type']);
    expect(duration?.unit).toBe('s');
    expect(duration?.count).toBeGreaterThan(0);
    // Only the streamed request has a time to first token.
    const ttft = rx.points().filter((p) => p.metric === 'gen_ai.server.time_to_first_token');
    expect(ttft.reduce((n, p) => n + p.count, 0)).toBe(1);
  });
});

describe('OTLP metrics alone, with model names capped', () => {
  let rx: OtlpReceiver;
  let st: ProxyStack;
  beforeAll(async () => {
    rx = await startOtlpReceiver();
    st = await startProxyStack({
      env: otlp(rx, {
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/v1/metrics`,
        METRICS_MAX_LABEL_VALUES: '2',
      }),
    });
  });
  afterAll(async () => {
    await st?.stop();
    await rx?.close();
  });

  it('exports metrics, no spans, and counts model names past METRICS_MAX_LABEL_VALUES as other', async () => {
    for (const model of ['model-a', 'model-b', 'model-c', 'model-d']) {
      await st.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    }
    const durations = () => rx.points().filter((p) => p.metric === 'gen_ai.server.request.duration');
    // Cumulative: the export that has counted all four requests.
    await until(() => durations().reduce((n, p) => n + p.count, 0) === 4);
    expect([...new Set(durations().map((p) => p.attributes['gen_ai.request.model']))].sort()).toEqual([
      'model-a',
      'model-b',
      'other',
    ]);
    expect(rx.requests().every((r) => r.path === '/v1/metrics')).toBe(true);
    // No trace context is made up for the upstream without tracing, and none is logged.
    expect(st.mock.requests().every((r) => r.headers.traceparent === undefined)).toBe(true);
    expect(st.s.logs()).not.toContain('trace_id');
  });
});

describe('OTLP/HTTP protobuf', () => {
  let rx: OtlpReceiver;
  let st: ProxyStack;
  beforeAll(async () => {
    rx = await startOtlpReceiver();
    st = await startProxyStack({ env: otlp(rx, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }) });
  });
  afterAll(async () => {
    await st?.stop();
    await rx?.close();
  });

  it('exports spans and metrics as protobuf messages', async () => {
    const tag = randomUUID();
    await st.client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-test-case': tag } },
    );
    const traceparent = upstreamHeaders(st, tag)?.traceparent ?? '';
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = traceparent.split('-')[1] as string;
    const traceBytes = Buffer.from(traceId, 'hex');
    // The span name and its 16 trace-id bytes are fields of the ExportTraceServiceRequest as sent.
    await until(() =>
      rx
        .requests()
        .some((r) => r.path === '/v1/traces' && r.body.includes('chat gpt-4o-mini') && r.body.includes(traceBytes)),
    );
    await until(() =>
      rx.requests().some((r) => r.path === '/v1/metrics' && r.body.includes('gen_ai.client.token.usage')),
    );
    for (const r of rx.requests()) expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(rx.spans()).toEqual([]);
  });
});
