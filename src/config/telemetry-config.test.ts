import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

const telemetry = (env: Record<string, string>) => loadConfig({}, env).telemetry;
const problem = (env: Record<string, string>) => {
  try {
    loadConfig({}, env);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

describe('OpenTelemetry settings', () => {
  it('are off by default', () => {
    const t = telemetry({});
    expect(t.traces).toBeUndefined();
    expect(t.metrics).toBeUndefined();
    expect(t.resource).toEqual({ 'service.name': 'llm-proxy' });
  });

  it('turn on with an endpoint, appending each signal path to the base URL', () => {
    const t = telemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    expect(t.traces).toEqual({
      url: 'http://collector:4318/v1/traces',
      sampler: 'parentbased_always_on',
      ratio: 1,
      scheduleDelayMs: 5_000,
    });
    expect(t.metrics).toEqual({ url: 'http://collector:4318/v1/metrics', intervalMs: 60_000 });
    expect(t.protocol).toBe('http/protobuf');
    expect(t.timeoutMs).toBe(10_000);
    expect(telemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c/otlp/' }).traces?.url).toBe('https://c/otlp/v1/traces');
  });

  it('use a signal endpoint as is, and turn only that signal on', () => {
    const t = telemetry({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' });
    expect(t.traces?.url).toBe('http://c:4318/custom');
    expect(t.metrics).toBeUndefined();
    const m = telemetry({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m/x',
    });
    expect(m.metrics?.url).toBe('http://m/x');
    expect(m.traces?.url).toBe('http://c:4318/v1/traces');
  });

  it('follow the exporter settings: otlp alone means the local default receiver, none turns a signal off', () => {
    expect(telemetry({ OTEL_TRACES_EXPORTER: 'otlp' }).traces?.url).toBe('http://localhost:4318/v1/traces');
    expect(telemetry({ OTEL_TRACES_EXPORTER: 'otlp' }).metrics).toBeUndefined();
    const t = telemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRICS_EXPORTER: 'none' });
    expect(t.traces).toBeDefined();
    expect(t.metrics).toBeUndefined();
    const off = telemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' });
    expect(off.traces).toBeUndefined();
    expect(off.metrics).toBeUndefined();
  });

  it('parse headers and resource attributes, percent-decoded; OTEL_SERVICE_NAME names the service', () => {
    const t = telemetry({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%2Cb%3Dc, x-team = ml ',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment.name=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(t.headers).toEqual({ 'api-key': 'a,b=c', 'x-team': 'ml' });
    expect(t.resource).toEqual({ 'service.name': 'from-attrs', 'deployment.environment.name': 'prod' });
    expect(t.traces).toMatchObject({ sampler: 'parentbased_traceidratio', ratio: 0.25 });
    expect(telemetry({ OTEL_SERVICE_NAME: 'gateway', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x' }).resource).toEqual({
      'service.name': 'gateway',
    });
  });

  it('refuse bad values by name, without repeating a header value', () => {
    expect(problem({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatch(
      /OTEL_EXPORTER_OTLP_PROTOCOL: .*grpc is not supported/,
    );
    expect(problem({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT: /);
    expect(problem({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c/x' })).toMatch(/not ftp:/);
    const withCredentials = problem({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:pw-9x8@collector:4318' }) as string;
    expect(withCredentials).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT: must not contain credentials/);
    expect(withCredentials).not.toContain('pw-9x8');
    expect(problem({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toMatch(/OTEL_TRACES_SAMPLER: expected one of/);
    expect(problem({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toMatch(
      /OTEL_TRACES_SAMPLER_ARG: expected a number from 0 to 1/,
    );
    expect(problem({ OTEL_TRACES_EXPORTER: 'zipkin' })).toMatch(/OTEL_TRACES_EXPORTER: expected one of otlp, none/);
    expect(problem({ OTEL_METRIC_EXPORT_INTERVAL: '0' })).toMatch(/OTEL_METRIC_EXPORT_INTERVAL/);
    const secret = 'sup3r-s3cret-value';
    const noKey = problem({ OTEL_EXPORTER_OTLP_HEADERS: `ok=1,${secret}` }) as string;
    // Parsed like every header list of the configuration (SHIPPING_OTLP_LOGS_HEADERS too).
    expect(noKey).toMatch(/OTEL_EXPORTER_OTLP_HEADERS: entry 2 has no header name/);
    const badName = problem({ OTEL_EXPORTER_OTLP_HEADERS: `bad name=${secret}` }) as string;
    expect(badName).toMatch(/OTEL_EXPORTER_OTLP_HEADERS: entry 1 has no header name/);
    const badEncoding = problem({ OTEL_EXPORTER_OTLP_HEADERS: `k=${secret}%zz` }) as string;
    expect(badEncoding).toMatch(/OTEL_EXPORTER_OTLP_HEADERS: a value is not valid URL encoding/);
    for (const message of [noKey, badName, badEncoding]) expect(message).not.toContain(secret);
    expect(problem({ OTEL_RESOURCE_ATTRIBUTES: '=x' })).toMatch(/OTEL_RESOURCE_ATTRIBUTES: pair 1/);
  });
});
