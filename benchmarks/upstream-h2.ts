#!/usr/bin/env node
/**
 * `npm run bench:h2`: HTTP/2 against HTTP/1.1 from the proxy to a TLS upstream. One llm-proxy, two
 * projects on the same mock upstream (HTTPS, speaking HTTP/2 and HTTP/1.1, with a certificate made
 * here and trusted through NODE_EXTRA_CA_CERTS): one key with `http2: true`, one without. wrk drives
 * each project in turn, alternating in rounds, for non-streamed and streamed chat at c=32; the
 * proxy's CPU time per request is read from /proc around each run. Prints the medians, and the
 * median (and range) of each round's ratio h2 / h1.1, as a Markdown table.
 *
 *   node dist-bench/benchmarks/upstream-h2.js [--rounds 5] [--duration 5s]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/bench/units.js';
import { CELLS } from './floor-cells.js';
import type { Target } from './floor-targets.js';
import {
  type Child,
  CLI,
  cpuMs,
  jsonCall,
  log,
  ROOT,
  spawnChild,
  startProxyChild,
  UPSTREAM_KEY,
  waitForOutput,
} from './harness-stack.js';
import { type TestCa, testCa } from './tls-certs.js';
import { findWrk, wrkGenerator } from './wrk.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, duration: { type: 'string', default: '5s' } },
});
const rounds = Number(values.rounds);
const seconds = parseDuration(String(values.duration)) / 1000;

const wrk = findWrk();
if (!wrk) throw new Error('wrk is not on PATH (apt-get install wrk)');
const dir = mkdtempSync(path.join(os.tmpdir(), 'llmp-bench-h2-'));
const children: Child[] = [];
let ca: TestCa | undefined;
try {
  // A certificate for localhost from a CA of the run's own, which the proxy trusts as an extra CA.
  ca = testCa();
  const leaf = ca.issue('localhost');
  const cert = leaf.certFile;
  const key = leaf.keyFile;
  const mockModule = path.join(ROOT, 'dist', 'mock-upstream', 'index.js');
  const mockScript = `import { readFileSync } from 'node:fs';
const { startMockUpstream } = await import(${JSON.stringify(mockModule)});
const m = await startMockUpstream({ apiKey: ${JSON.stringify(UPSTREAM_KEY)}, tls: { cert: readFileSync(${JSON.stringify(cert)}), key: readFileSync(${JSON.stringify(key)}) } });
console.log('listening on ' + m.url);`;
  const mock = spawnChild('mock upstream (TLS)', process.execPath, ['--input-type=module', '-e', mockScript], {});
  children.push(mock);
  const mockUrl = (await waitForOutput(mock, /listening on (https:\/\/\S+)/))[1]?.replace('127.0.0.1', 'localhost');
  const dataDir = path.join(dir, 'proxy');
  const proxy = await startProxyChild(CLI, dataDir, mockUrl as string, {
    NODE_EXTRA_CA_CERTS: path.join(ca.dir, 'ca.crt'),
  });
  children.push(proxy.child);
  const mt = readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim();
  const projectWith = async (http2: boolean): Promise<string> => {
    const p = await jsonCall<{ id: string }>('POST', `${proxy.url}/manage/projects`, mt, {
      name: http2 ? 'h2' : 'h1',
      api_key: UPSTREAM_KEY,
    });
    if (http2) {
      const keys = await jsonCall<{ data: Array<{ id: string }> }>(
        'GET',
        `${proxy.url}/manage/projects/${p.body.id}/keys`,
        mt,
      );
      const k = keys.body.data[0]?.id as string;
      const patched = await jsonCall('PATCH', `${proxy.url}/manage/projects/${p.body.id}/keys/${k}`, mt, { http2 });
      if (patched.status !== 200) throw new Error(`PATCH http2: ${patched.status}`);
    }
    const t = await jsonCall<{ token: string }>('POST', `${proxy.url}/manage/tokens`, mt, { project_id: p.body.id });
    return t.body.token;
  };
  const targets = {
    h1: { key: 'proxy', title: 'HTTP/1.1', url: proxy.url, token: await projectWith(false), pid: proxy.child.pid },
    h2: { key: 'before', title: 'HTTP/2', url: proxy.url, token: await projectWith(true), pid: proxy.child.pid },
  } satisfies Record<string, Target>;
  const gen = wrkGenerator(wrk, dir);
  const cells = CELLS.filter((c) => c.connections > 1);
  const results: Record<string, { rps: number[]; cpu: number[] }> = {};
  // Warm-up: both pools connected, the JIT warm.
  for (const cell of cells) for (const t of Object.values(targets)) await gen.run(t, cell, 2);
  for (let r = 0; r < rounds; r++) {
    for (const cell of cells) {
      for (const [name, t] of r % 2 === 0 ? Object.entries(targets) : Object.entries(targets).reverse()) {
        const before = cpuMs(t.pid) ?? 0;
        const m = await gen.run(t, cell, seconds);
        const cpu = (cpuMs(t.pid) ?? 0) - before;
        if (m.errors > 0) throw new Error(`${name} ${cell.name}: ${m.errorDetail}`);
        const id = `${cell.name} ${name}`;
        results[id] ??= { rps: [], cpu: [] };
        const slot = results[id];
        slot.rps.push(m.rps);
        slot.cpu.push(cpu / m.requests);
        log(
          `round ${r + 1} ${cell.label} ${t.title}: ${m.rps.toFixed(0)}/s, ${(cpu / m.requests).toFixed(3)} ms CPU/req`,
        );
      }
    }
  }
  // Each round's HTTP/2 figure over its HTTP/1.1 one (same round, same load on the host), then
  // the median of those ratios with their range: a busy host moves both sides of a round alike.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const ratios = (a: number[], b: number[]) => {
    const rs = b.map((x, i) => x / (a[i] as number));
    return `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`;
  };
  const lines = [
    '| to the upstream | HTTP/1.1 req/s | HTTP/2 req/s | h2 / h1.1 | HTTP/1.1 CPU ms/req | HTTP/2 CPU ms/req | h2 / h1.1 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const cell of cells) {
    const a = results[`${cell.name} h1`] as { rps: number[]; cpu: number[] };
    const b = results[`${cell.name} h2`] as { rps: number[]; cpu: number[] };
    lines.push(
      `| ${cell.label} | ${median(a.rps).toFixed(0)} | ${median(b.rps).toFixed(0)} | ${ratios(a.rps, b.rps)} | ${median(a.cpu).toFixed(3)} | ${median(b.cpu).toFixed(3)} | ${ratios(a.cpu, b.cpu)} |`,
    );
  }
  console.log(lines.join('\n'));
} finally {
  for (const c of children.reverse()) await c.stop();
  ca?.close();
  rmSync(dir, { recursive: true, force: true });
}
