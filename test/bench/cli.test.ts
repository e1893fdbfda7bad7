import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { runBench } from '../helpers/cli.js';

let mock: MockUpstream;
let dir: string;

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: 'sk-up' });
  dir = mkdtempSync(path.join(tmpdir(), 'llmp-bench-cli-'));
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

const SUMMARY_KEYS = ['count', 'min', 'mean', 'stdev', 'p50', 'p90', 'p99', 'p99_9', 'max'];

describe('llm-proxy bench output', () => {
  it('writes the JSON report and CSV rows to files, and the table to stdout', async () => {
    const json = path.join(dir, 'run.json');
    const csv = path.join(dir, 'run.csv');
    const res = await runBench([
      mock.url,
      '-t',
      'sk-up',
      '--stream',
      '-H',
      'x-mock-chunks: 3',
      '-H',
      'x-mock-chunk-delay-ms: 1',
      '-n',
      '30',
      '-c',
      '3',
      '--json',
      json,
      '--csv',
      csv,
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/latency \(ms\)\n\s+p50\s+p90\s+p99\s+p99\.9\s+max\s+mean\s+count\n\s+run\s/);
    expect(res.stdout).toContain('stream chunk gap (ms)');
    expect(res.stdout).toMatch(/status 200×30; errors: none; streams 30, events 180/);

    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report).toMatchObject({
      schema: 'llm-proxy-bench/1',
      tool: { name: 'llm-proxy bench' },
      config: {
        mode: 'closed',
        concurrency: 3,
        requests: 30,
        duration_s: null,
        rounds: 1,
        latency_origin: 'send-time',
      },
      comparison: null,
    });
    expect(typeof report.started_at).toBe('string');
    expect(report.config.kinds).toEqual([
      { name: 'chat+stream', method: 'POST', path: '/v1/chat/completions', stream: true, weight: 1 },
    ]);
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0];
    expect(Object.keys(run).sort()).toEqual(
      [
        'bytes',
        'chunk_gap_ms',
        'client_cpu',
        'connections',
        'duration_s',
        'error_messages',
        'errors',
        'kinds',
        'label',
        'latency_ms',
        'proxy_overhead_ms',
        'requests',
        'rounds',
        'service_ms',
        'status',
        'stream',
        'target',
        'throughput',
        'ttfb_ms',
        'upstream_ms',
        'warmup',
      ].sort(),
    );
    expect(run).toMatchObject({
      label: 'run',
      target: mock.url,
      requests: { sent: 30, completed: 30, ok: 30, errors: 0 },
    });
    for (const key of ['latency_ms', 'ttfb_ms', 'chunk_gap_ms']) {
      expect(Object.keys(run[key])).toEqual(SUMMARY_KEYS);
      for (const k of SUMMARY_KEYS) expect(typeof run[key][k]).toBe('number');
    }
    expect(run.service_ms).toBeNull();
    expect(run.errors).toEqual({ connect: 0, timeout: 0, reset: 0, http_4xx: 0, http_5xx: 0, other: 0 });
    expect(typeof run.throughput.rps).toBe('number');
    expect(run.stream).toEqual({ responses: 30, events: 180, chunks: expect.any(Number) });

    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('label,target,metric,stat,value');
    const rows = lines.slice(1).map((l) => l.split(','));
    for (const r of rows) {
      expect(r).toHaveLength(5);
      expect(r[0]).toBe('run');
      expect(Number.isFinite(Number(r[4]))).toBe(true);
    }
    const value = (metric: string, stat: string) => rows.find((r) => r[2] === metric && r[3] === stat)?.[4];
    expect(Number(value('latency_ms', 'p99'))).toBe(run.latency_ms.p99);
    expect(Number(value('requests', 'ok'))).toBe(30);
    expect(Number(value('status', '200'))).toBe(30);
    expect(Number(value('throughput', 'rps'))).toBe(run.throughput.rps);
  });

  it('prints JSON on stdout with --json - and keeps the table on stderr', async () => {
    const res = await runBench([mock.url, '-t', 'sk-up', '-e', 'models', '-n', '5', '-c', '1', '--json', '-']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).runs[0].requests.ok).toBe(5);
    expect(res.stderr).toContain('latency (ms)');
    const quiet = await runBench([mock.url, '-t', 'sk-up', '-e', 'embeddings', '-n', '5', '--csv', '-', '-q']);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout.split('\n')[0]).toBe('label,target,metric,stat,value');
  });

  it('compares two reports with ratios', async () => {
    const a = path.join(dir, 'a.json');
    const b = path.join(dir, 'b.json');
    expect((await runBench([mock.url, '-t', 'sk-up', '-n', '20', '-c', '2', '-q', '--json', a])).code).toBe(0);
    expect(
      (await runBench([mock.url, '-t', 'sk-up', '-n', '20', '-c', '2', '-q', '--json', b, '--label', 'after'])).code,
    ).toBe(0);
    const res = await runBench(['--compare', a, b]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`A = ${a}`);
    expect(res.stdout).toMatch(/run → after\n\s+A\s+B\s+B − A\s+B \/ A\s+change/);
    expect(res.stdout).toMatch(/throughput rps\s+[\d.]+\s+[\d.]+\s+[-+][\d.]+\s+[\d.]+×/);
    const asJson = JSON.parse((await runBench(['--compare', a, b, '--json', '-', '-q'])).stdout);
    const rps = asJson.rows.find((r: any) => r.metric === 'throughput' && r.stat === 'rps');
    expect(rps.ratio).toBeCloseTo(rps.b / rps.a, 3);
  });

  it('explains bad input and failed targets', async () => {
    const bad = await runBench([mock.url, '--profile', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^llm-proxy bench: unknown profile "nope"; built in: short-chat, long-stream/);
    const denied = await runBench([mock.url, '-t', 'wrong', '-n', '3', '-q']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/no successful response from run \(http:\/\/127\.0\.0\.1:\d+\): HTTP 401/);
    const one = await runBench(['--compare', 'only.json']);
    expect(one.stderr).toMatch(/exactly two JSON reports/);
  });
});
