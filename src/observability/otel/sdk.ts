import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { SamplerName, TelemetryConfig } from '../../config/telemetry-config.js';
import { VERSION } from '../../version.js';
import type { Logger } from '../logger.js';
import type { Telemetry, TelemetryOptions } from '../telemetry.js';
import { metricExporter, spanExporter } from './exporters.js';
import { GenAiMetrics } from './genai-metrics.js';

/** Spans held for export; past this a burst drops the newest (the SDK counts them), memory stays bounded. */
const MAX_QUEUED_SPANS = 8192;
const MAX_EXPORT_BATCH = 512;

/**
 * The OpenTelemetry SDK, as llm-proxy uses it: providers built from the configuration alone,
 * nothing registered globally (no global tracer or meter provider, no context manager, no
 * instrumentation patching modules): the proxy passes every parent context explicitly, so no
 * async hook runs for it. Loaded only when a signal is on (telemetry.ts).
 */
export function startOtel(cfg: TelemetryConfig, logger: Logger, opts: TelemetryOptions): Telemetry {
  const resource = defaultResource().merge(resourceFromAttributes({ 'service.version': VERSION, ...cfg.resource }));
  const propagator = new W3CTraceContextPropagator();
  let tracerProvider: TracerProvider | undefined;
  if (cfg.traces) {
    tracerProvider = new TracerProvider({
      resource,
      sampler: sampler(cfg.traces.sampler, cfg.traces.ratio),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: spanExporter(cfg, cfg.traces.url, logger),
          scheduledDelayMillis: cfg.traces.scheduleDelayMs,
          exportTimeoutMillis: cfg.timeoutMs,
          maxQueueSize: MAX_QUEUED_SPANS,
          maxExportBatchSize: MAX_EXPORT_BATCH,
        }),
      ],
    });
  }
  let meterProvider: MeterProvider | undefined;
  if (cfg.metrics) {
    meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: metricExporter(cfg, cfg.metrics.url, logger),
          exportIntervalMillis: cfg.metrics.intervalMs,
          // The reader insists that an export ends before the next one is due.
          exportTimeoutMillis: Math.min(cfg.timeoutMs, cfg.metrics.intervalMs),
        }),
      ],
    });
  }
  const scope = ['llm-proxy', VERSION] as const;
  return {
    tracer: tracerProvider?.getTracer(...scope),
    genAi: meterProvider ? new GenAiMetrics(meterProvider.getMeter(...scope), opts.maxLabelValues) : undefined,
    extract: (headers): Context => propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
    inject: (span: Span, headers) =>
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter),
    async shutdown() {
      // Both flush what they hold (spans of the last requests, a final metrics export) before closing.
      await Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

/** OTEL_TRACES_SAMPLER, as the specification defines each name. */
function sampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}
