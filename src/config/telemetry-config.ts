import type { RawConfig } from './schema.js';

/** OTEL_TRACES_SAMPLER values (the standard ones that need nothing beyond this process). */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

export type SamplerName = (typeof SAMPLERS)[number];

/** Where and how OpenTelemetry data leaves the process; `undefined` signals are off. */
export interface TelemetryConfig {
  traces: { url: string; sampler: SamplerName; ratio: number; scheduleDelayMs: number } | undefined;
  metrics: { url: string; intervalMs: number } | undefined;
  protocol: 'http/protobuf' | 'http/json';
  /** Sent with every export request (may hold a collector's credentials: never logged). */
  headers: Record<string, string>;
  timeoutMs: number;
  /** OTEL_RESOURCE_ATTRIBUTES, and service.name: OTEL_SERVICE_NAME, else the attributes' own, else llm-proxy. */
  resource: Record<string, string>;
}

/** The default OTLP/HTTP receiver, as in every OpenTelemetry SDK. */
const DEFAULT_ENDPOINT = 'http://localhost:4318';

export function otlpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an http(s) URL such as http://otel-collector:4318';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `expected an http:// or https:// URL such as http://otel-collector:4318, not ${url.protocol}`;
  }
  // The URL is logged at start; credentials belong in OTEL_EXPORTER_OTLP_HEADERS, which is not.
  if (url.username || url.password) {
    return 'must not contain credentials (user:password@); send them as OTEL_EXPORTER_OTLP_HEADERS, e.g. Authorization=Basic%20…';
  }
  return undefined;
}

/**
 * `key=value` pairs separated by commas, keys and values percent-encoded (W3C Baggage style, as
 * OTEL_RESOURCE_ATTRIBUTES is specified; attribute keys keep their case, unlike header names).
 * The message names the position of a bad pair, never its text.
 */
export function keyValueListProblem(value: string): string | undefined {
  try {
    parseKeyValueList(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function parseKeyValueList(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const items = value.split(',');
  for (let i = 0; i < items.length; i++) {
    const item = (items[i] as string).trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (key === '') throw new Error(`pair ${i + 1} is not key=value (expected e.g. api-key=secret,team=ml)`);
    try {
      out[decodeURIComponent(key)] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw new Error(`pair ${i + 1} is not valid percent-encoding`);
    }
  }
  return out;
}

/** OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: the signal's path is appended to it. */
function signalUrl(base: string, path: string): string {
  return `${base.endsWith('/') ? base : `${base}/`}${path}`;
}

/**
 * `headers`: OTEL_EXPORTER_OTLP_HEADERS, parsed like every header list (schema.ts `parseHeaderList`).
 * A signal is on when its exporter is `otlp`, or when it is unset and an OTLP endpoint (the
 * general one or the signal's own) is; OTEL_SDK_DISABLED turns everything off. Off by default.
 */
export function toTelemetryConfig(raw: RawConfig, headers: Record<string, string>): TelemetryConfig {
  const base = raw.OTEL_EXPORTER_OTLP_ENDPOINT;
  const attributes = raw.OTEL_RESOURCE_ATTRIBUTES ? parseKeyValueList(raw.OTEL_RESOURCE_ATTRIBUTES) : {};
  const on = (exporter: 'otlp' | 'none' | undefined, own: string | undefined) =>
    !raw.OTEL_SDK_DISABLED && exporter !== 'none' && (exporter === 'otlp' || own !== undefined || base !== undefined);
  const traces = on(raw.OTEL_TRACES_EXPORTER, raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    ? {
        url: raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? signalUrl(base ?? DEFAULT_ENDPOINT, 'v1/traces'),
        sampler: raw.OTEL_TRACES_SAMPLER,
        ratio: raw.OTEL_TRACES_SAMPLER_ARG ?? 1,
        scheduleDelayMs: raw.OTEL_BSP_SCHEDULE_DELAY,
      }
    : undefined;
  const metrics = on(raw.OTEL_METRICS_EXPORTER, raw.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
    ? {
        url: raw.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? signalUrl(base ?? DEFAULT_ENDPOINT, 'v1/metrics'),
        intervalMs: raw.OTEL_METRIC_EXPORT_INTERVAL,
      }
    : undefined;
  return {
    traces,
    metrics,
    protocol: raw.OTEL_EXPORTER_OTLP_PROTOCOL,
    headers,
    timeoutMs: raw.OTEL_EXPORTER_OTLP_TIMEOUT,
    resource: { ...attributes, 'service.name': raw.OTEL_SERVICE_NAME ?? attributes['service.name'] ?? 'llm-proxy' },
  };
}
