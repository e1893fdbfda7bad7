import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/result.js';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { runBench, type ServeProcess, spawnServe } from '../helpers/cli.js';

const UPSTREAM_KEY = 'sk-upstream-bench-e2e-key';

let mock: MockUpstream;
let proxy: ServeProcess;
let dataDir: string;
let token: string;

async function manage(url: string, management: string, route: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}/manage${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${management}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return res.json();
}

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-bench-e2e-'));
  proxy = await spawnServe({ DATA_DIR: dataDir, OPENAI_API_URL: mock.url, LOG_LEVEL: 'info' });
  const management = readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim();
  const project = await manage(proxy.url, management, '/projects', { name: 'bench', api_key: UPSTREAM_KEY });
  token = (await manage(proxy.url, management, '/tokens', { project_id: project.id })).token;
});

afterAll(async () => {
  proxy?.child.kill('SIGTERM');
  await proxy?.exited;
  await mock?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('llm-proxy bench --direct --proxy', () => {
  it('runs the same load against both in alternating rounds and reports the difference', async () => {
    const res = await runBench([
      '--direct',
      mock.url,
      '--direct-token',
      UPSTREAM_KEY,
      '--proxy',
      proxy.url,
      '--token',
      token,
      '-c',
      '2',
      // A request count, not a duration: how many fit in a duration depends on how busy the machine is.
      '-n',
      '40',
      '--rounds',
      '2',
      '--warmup',
      '100ms',
      '--json',
      '-',
    ]);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as BenchReport;
    expect(report.runs.map((r) => r.label)).toEqual(['direct', 'proxy']);
    const [direct, proxied] = report.runs;
    for (const r of report.runs) {
      expect(r.requests).toEqual({ sent: 40, completed: 40, ok: 40, errors: 0 }); // 20 in each round
      expect(r.rounds).toBe(2);
      expect(r.warmup.requests).toBeGreaterThan(0);
      expect(r.latency_ms?.p50).toBeGreaterThan(0);
    }
    expect(direct?.target).toBe(mock.url);
    expect(proxied?.target).toBe(proxy.url);
    // Only the proxy reports its own time.
    expect(direct?.proxy_overhead_ms).toBeNull();
    expect(proxied?.proxy_overhead_ms?.count).toBe(proxied?.requests.completed);
    expect(proxied?.upstream_ms?.count).toBe(proxied?.requests.completed);

    const cmp = report.comparison;
    expect(cmp).toMatchObject({ baseline: 'direct', rounds: 2, order: 'alternating' });
    expect(cmp?.round_detail.map((d) => `${d.round}:${d.label}`)).toEqual([
      '1:direct',
      '1:proxy',
      '2:proxy',
      '2:direct',
    ]);
    const pair = cmp?.pairs[0];
    expect(pair).toMatchObject({ subject: 'proxy', baseline: 'direct' });
    expect(pair?.added_latency_ms?.p50).toBeCloseTo(
      (proxied?.latency_ms?.p50 ?? 0) - (direct?.latency_ms?.p50 ?? 0),
      3,
    );
    expect(pair?.throughput_ratio).toBeCloseTo((proxied?.throughput.rps ?? 0) / (direct?.throughput.rps ?? 1), 3);
    expect(res.stderr).toMatch(/comparison \(2 rounds, alternating order\)\n\s+proxy vs direct: latency p50 [+-]/);
  });
});
