import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe } from '../helpers/cli.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const MANAGEMENT_TOKEN = 'a-management-token-for-telemetry-tests';

/**
 * `llm-proxy serve` as a user runs it, with a preload that records every OpenTelemetry module the
 * process loads, imported or required (module.registerHooks sees both), and writes the list as
 * the process exits.
 */
async function runServe(dir: string, env: Record<string, string>, during: (url: string) => Promise<void>) {
  const list = path.join(dir, `modules-${Date.now()}.txt`);
  const preload = path.join(dir, 'list-modules.cjs');
  writeFileSync(
    preload,
    `const fs = require('node:fs');
const loaded = new Set();
require('node:module').registerHooks({
  load(url, context, next) {
    if (url.includes('/node_modules/@opentelemetry/')) loaded.add(url);
    return next(url, context);
  },
});
process.on('exit', () => fs.writeFileSync(${JSON.stringify(list)}, [...loaded].join('\\n')));`,
  );
  const srv = await spawnServe(
    { DATA_DIR: path.join(dir, `data-${Date.now()}`), MANAGEMENT_TOKEN, ...env },
    [],
    ['--require', preload],
  );
  try {
    await during(srv.url);
  } finally {
    srv.child.kill('SIGTERM');
  }
  expect(await srv.exited).toBe(0);
  const packages = new Set(
    readFileSync(list, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((f) => /\/node_modules\/(@opentelemetry\/[^/]+)\//.exec(f)?.[1]),
  );
  return { packages, stdout: srv.stdout() };
}

describe('OpenTelemetry in the served process', () => {
  let dir: string;
  let rx: OtlpReceiver;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-otel-'));
    rx = await startOtlpReceiver();
  });
  afterAll(async () => {
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads none of the SDK with tracing off (only the API that prom-client itself requires)', async () => {
    const { packages } = await runServe(dir, {}, async (url) => {
      expect((await fetch(`${url}/v1/models`)).status).toBe(401);
    });
    expect([...packages]).toEqual(['@opentelemetry/api']);
  });

  it('loads the SDK with tracing on, and flushes spans and metrics on SIGTERM', async () => {
    // Neither timer would export during this test: what arrives was flushed by the shutdown.
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    };
    const { packages, stdout } = await runServe(dir, env, async (url) => {
      const res = await fetch(`${url}/manage/projects`, { headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` } });
      expect(res.status).toBe(200);
      expect((await fetch(`${url}/v1/chat/completions`, { method: 'POST' })).status).toBe(401);
      expect(rx.requests()).toEqual([]);
    });
    expect(packages).toContain('@opentelemetry/sdk-trace');
    expect(packages).toContain('@opentelemetry/sdk-metrics');
    expect(stdout).toContain('"msg":"OpenTelemetry export on"');
    const names = rx.spans().map((s) => s.name);
    expect(names).toContain('GET /manage/projects');
    expect(names).toContain('chat');
    const refused = rx.spans().find((s) => s.name === 'chat');
    expect(refused?.attributes['error.type']).toBe('invalid_api_key');
    expect(
      rx
        .points()
        .some((p) => p.metric === 'gen_ai.server.request.duration' && p.attributes['error.type'] === 'invalid_api_key'),
    ).toBe(true);
  });
});
