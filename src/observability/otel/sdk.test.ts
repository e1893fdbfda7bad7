import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../test/helpers/otlp-receiver.js';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../logger.js';
import { startOtel } from './sdk.js';

describe('the OpenTelemetry SDK as llm-proxy starts it', () => {
  let rx: OtlpReceiver;
  beforeAll(async () => {
    rx = await startOtlpReceiver();
  });
  afterAll(() => rx?.close());

  it('exports a full span queue at shutdown, every batch of it', async () => {
    const cfg = loadConfig(
      {},
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${rx.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Nothing is sent before shutdown but what fills a batch.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      },
    ).telemetry;
    const t = startOtel(cfg, createLogger({ level: 'silent' }), { maxLabelValues: 10 });
    const tracer = t.tracer;
    if (!tracer) throw new Error('tracing is on');
    // 8192 is the most the processor holds; this is all of it, in 16 batches.
    for (let i = 0; i < 8192; i++) tracer.startSpan(`s${i}`, { kind: SpanKind.INTERNAL }).end();
    await t.shutdown();
    expect(new Set(rx.spans().map((s) => s.name)).size).toBe(8192);
  });

  it('continues a W3C trace context and writes one for a child span', () => {
    const cfg = loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_METRICS_EXPORTER: 'none' }).telemetry;
    const t = startOtel(cfg, createLogger({ level: 'silent' }), { maxLabelValues: 10 });
    const parent = t.extract({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'congo=t61rcWkgMzE',
    });
    const span = t.tracer?.startSpan('child', {}, parent);
    const headers: Record<string, string> = {};
    if (span) t.inject(span, headers);
    expect(headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(headers.traceparent).not.toContain('00f067aa0ba902b7');
    expect(headers.tracestate).toBe('congo=t61rcWkgMzE');
    // Garbage is no parent: a new trace starts.
    const root = t.tracer?.startSpan('root', {}, t.extract({ traceparent: 'not-a-traceparent' }));
    expect(root?.spanContext().traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    span?.end();
    root?.end();
    return t.shutdown();
  });
});
