#!/usr/bin/env node
import path from 'node:path';
/**
 * `npm run bench:tracing`: the CPU the OpenTelemetry hooks add to one proxied request, measured in
 * isolation from the rest of the pipeline and from the machine's noise. It loads the built
 * telemetry (dist/) in this process, drives its hooks through the points of a non-streamed chat
 * request (start, admitted, upstream request, end) with the values a real one has, and lets it
 * export for real, over OTLP/HTTP protobuf, to a sink in another process (whose CPU is not
 * counted). Per mode, warm-up then `--requests` requests; the figure is this process's user +
 * system CPU (all threads, the exports included, until the final flush) per request.
 *
 *   node dist-bench/benchmarks/tracing-hooks.js [--requests 100000]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { loadConfig as LoadConfig } from '../src/config/load.js';
import type { createLogger as CreateLogger } from '../src/observability/logger.js';
import type { startTelemetry as StartTelemetry } from '../src/observability/telemetry.js';
import type { Admitted } from '../src/proxy/admission.js';
import type { ProxyHooks } from '../src/proxy/hooks.js';
import type { ProxyRequest } from '../src/proxy/proxy-request.js';
import type { telemetryHooks as TelemetryHooks } from '../src/proxy/telemetry-hooks.js';
import type { UsageRecord } from '../src/usage/usage-writer.js';
import { log, ROOT, spawnChild, waitForOutput } from './harness-stack.js';

const dist = (file: string) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);

const MODES = {
  traces: { OTEL_METRICS_EXPORTER: 'none' },
  metrics: { OTEL_TRACES_EXPORTER: 'none' },
  'traces + metrics': {},
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '100000' } } });
  const n = Number(values.requests);
  if (!Number.isInteger(n) || n < 1000) throw new Error(`--requests: a whole number >= 1000: ${values.requests}`);
  const { loadConfig } = (await dist('config/load.js')) as { loadConfig: typeof LoadConfig };
  const { createLogger } = (await dist('observability/logger.js')) as { createLogger: typeof CreateLogger };
  const { startTelemetry } = (await dist('observability/telemetry.js')) as { startTelemetry: typeof StartTelemetry };
  const { telemetryHooks } = (await dist('proxy/telemetry-hooks.js')) as { telemetryHooks: typeof TelemetryHooks };
  const sinkFile = path.join(ROOT, 'dist-bench', 'benchmarks', 'otlp-sink.js');
  const sink = spawnChild('otlp sink', process.execPath, [sinkFile], {});
  try {
    const url = (await waitForOutput(sink, /listening on (http:\/\/\S+)/))[1] as string;
    const rows: string[] = ['| mode | CPU µs per request |', '|---|---:|'];
    for (const [mode, env] of Object.entries(MODES)) {
      // Spans in batches every 5 s and metrics every 60 s, as by default; the final flush is counted.
      const cfg = loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: url, ...env }).telemetry;
      const telemetry = await startTelemetry(cfg, createLogger({ level: 'warn' }), { maxLabelValues: 200 });
      if (!telemetry) throw new Error('telemetry did not start');
      const hooks = telemetryHooks(telemetry);
      await drive(hooks, 20_000);
      const before = process.cpuUsage();
      await drive(hooks, n);
      await telemetry.shutdown();
      const cpu = process.cpuUsage(before);
      const us = (cpu.user + cpu.system) / n;
      log(`${mode}: ${us.toFixed(1)} µs CPU per request`);
      rows.push(`| ${mode} | ${us.toFixed(1)} |`);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await sink.stop();
  }
}

const identity = {
  tokenId: '01a23213-4db7-7350-bed3-dc8f470847fa',
  projectId: '01a23213-4dad-7375-ab04-bf2136449acc',
};
const upstreamKey = { id: '01a23213-4dad-7375-ab04-bf2136449acd', origin: 'http://127.0.0.1:9', prefix: '' };
const admitted = { facts: { model: 'gpt-4o-mini' } } as unknown as Admitted;

/** `count` requests through the hooks, yielding to the event loop now and then so exports go out. */
async function drive(hooks: ProxyHooks, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const pr = {
      t0: performance.now(),
      method: 'POST',
      path: '/v1/chat/completions',
      id: `01a23213-4dbf-77a1-994a-${String(i).padStart(12, '0')}`,
      clientIp: '127.0.0.1',
      identity,
      upstreamKey,
      trace: undefined,
      req: { headers: { 'user-agent': 'OpenAI/JS 6.49.0', 'content-type': 'application/json' } },
    } as unknown as ProxyRequest;
    hooks.start?.(pr);
    hooks.admitted?.(pr, admitted);
    hooks.upstreamRequest?.(pr, { 'content-type': 'application/json', 'user-agent': 'OpenAI/JS 6.49.0' });
    hooks.end?.(pr, record(pr), undefined);
    if (i % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
  }
}

function record(pr: ProxyRequest): UsageRecord {
  return {
    id: pr.id,
    tokenId: identity.tokenId,
    projectId: identity.projectId,
    method: 'POST',
    path: pr.path,
    model: 'gpt-4o-mini-2024-07-18',
    status: 200,
    stream: false,
    promptTokens: 8,
    completionTokens: 16,
    totalTokens: 24,
    cachedTokens: 0,
    reasoningTokens: 0,
    finishReason: 'stop',
    upstreamMs: 2.7,
    ttfbMs: 6.8,
    durationMs: 7.4,
    bytesIn: 67,
    bytesOut: 658,
    error: null,
    costNanoUsd: 11_000,
    usageStatus: 'reported',
    createdAt: Date.now(),
    upstreamKeyId: upstreamKey.id,
    retries: 0,
    servedFrom: null,
    serviceTier: null,
    billedUnits: null,
    upstreamRequestId: null,
  };
}

main().catch((err) => {
  log(`tracing benchmark failed: ${(err as Error).message}`);
  process.exit(1);
});
