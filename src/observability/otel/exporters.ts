import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { AggregationTemporalityPreference, OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { createOtlpHttpExportDelegate, httpAgentFactoryFromOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  JsonMetricsSerializer,
  JsonTraceSerializer,
  MetricsExporterMetricsHelper,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { TelemetryConfig } from '../../config/telemetry-config.js';
import { VERSION } from '../../version.js';
import type { Logger } from '../logger.js';

/**
 * OTLP/HTTP exporters built from our configuration alone. The SDK's own exporter classes merge in
 * whatever OTEL_* variables they find in process.env (headers, TLS files, compression); these are
 * the same delegate and serializers with every option given, so the configuration (env and
 * CONFIG_FILE, validated) is the only source.
 */
function delegateOptions(cfg: TelemetryConfig, url: string) {
  const json = cfg.protocol === 'http/json';
  const headers = { ...cfg.headers, 'Content-Type': json ? 'application/json' : 'application/x-protobuf' };
  return {
    url,
    headers: async () => headers,
    timeoutMillis: cfg.timeoutMs,
    // Exports in flight at once; past it a batch is dropped (and the failure logged), never queued
    // without bound. A flush at shutdown sends the whole span queue at once: 8192 / 512 = 16 batches.
    concurrencyLimit: 32,
    compression: 'none' as const,
    agentFactory: httpAgentFactoryFromOptions({ keepAlive: true }),
    userAgent: `llm-proxy/${VERSION}`,
  };
}

export function spanExporter(cfg: TelemetryConfig, url: string, logger: Logger): SpanExporter {
  const serializer = cfg.protocol === 'http/json' ? JsonTraceSerializer : ProtobufTraceSerializer;
  const inner = new OTLPExporterBase<ReadableSpan[]>(
    createOtlpHttpExportDelegate(
      delegateOptions(cfg, url),
      serializer,
      'otlp_http_span_exporter',
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
  const report = failureReporter(logger, 'spans', url);
  return {
    export: (spans, done) => inner.export(spans, (r) => done(report(r))),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
}

export function metricExporter(cfg: TelemetryConfig, url: string, logger: Logger): PushMetricExporter {
  const serializer = cfg.protocol === 'http/json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;
  const inner = new OTLPMetricExporterBase(
    createOtlpHttpExportDelegate(
      delegateOptions(cfg, url),
      serializer,
      'otlp_http_metric_exporter',
      MetricsExporterMetricsHelper,
      undefined,
    ),
    { temporalityPreference: AggregationTemporalityPreference.CUMULATIVE },
  );
  const report = failureReporter(logger, 'metrics', url);
  return {
    export: (metrics: ResourceMetrics, done) => inner.export(metrics, (r) => done(report(r))),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
    selectAggregationTemporality: (t) => inner.selectAggregationTemporality(t),
    selectAggregation: (t) => inner.selectAggregation(t),
  };
}

/**
 * Logs failed exports: the first one, then every 60th while they keep failing, and the recovery,
 * so a collector that is down costs a handful of lines, not one per batch. Never the headers.
 */
function failureReporter(logger: Logger, what: string, url: string): (r: ExportResult) => ExportResult {
  let failures = 0;
  return (r) => {
    if (r.code === ExportResultCode.SUCCESS) {
      if (failures > 0) logger.info({ url, afterFailures: failures }, `OTLP ${what} export recovered`);
      failures = 0;
    } else if (++failures === 1 || failures % 60 === 0) {
      logger.warn({ url, failures, err: r.error?.message }, `OTLP ${what} export failed; the batch is dropped`);
    }
    return r;
  };
}
