import type { IncomingHttpHeaders } from 'node:http';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { TelemetryConfig } from '../config/telemetry-config.js';
import type { Logger } from './logger.js';
import type { GenAiMetrics } from './otel/genai-metrics.js';

/**
 * OpenTelemetry as the rest of llm-proxy sees it. Only types come from the SDK here: the SDK
 * itself (otel/) is imported when a signal is on, so with tracing and OTLP metrics off no
 * OpenTelemetry module is loaded for it and no hook is attached anywhere.
 */
export interface Telemetry {
  /** Set when spans are exported. */
  tracer: Tracer | undefined;
  /** Set when the GenAI metrics are exported. */
  genAi: GenAiMetrics | undefined;
  /** The parent context a client sent (W3C `traceparent`/`tracestate`), or the root context. */
  extract(headers: IncomingHttpHeaders): Context;
  /** Writes `span`'s context as `traceparent` (and `tracestate`) into `headers`. */
  inject(span: Span, headers: Record<string, string | string[]>): void;
  /** Exports what is still held (spans, a last metrics collection) and stops; at most the export timeout. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** Distinct model names per metric attribute before the rest count as `other` (METRICS_MAX_LABEL_VALUES). */
  maxLabelValues: number;
}

/** Starts the SDK for the signals that are on; undefined (and nothing loaded) when none is. */
export async function startTelemetry(
  cfg: TelemetryConfig,
  logger: Logger,
  opts: TelemetryOptions,
): Promise<Telemetry | undefined> {
  if (!cfg.traces && !cfg.metrics) return undefined;
  const { startOtel } = await import('./otel/sdk.js');
  return startOtel(cfg, logger, opts);
}
