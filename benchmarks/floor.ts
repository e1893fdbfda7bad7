#!/usr/bin/env node
/**
 * `npm run bench:floor`: how far the proxy is from the floor of its own platform. Runs the mock
 * upstream directly, through the proxy (full pipeline), through the floor proxy (Node's HTTP server
 * + undici and nothing else, see floor-proxy.ts) and through nginx, in the same alternating rounds,
 * for non-streamed chat at c=1 and c=32 and streamed chat at c=32, with each Node target's CPU
 * time per request. `--before <cli>` adds a second proxy started from another build (e.g. a
 * worktree of an older commit) to the same rounds, so a change's CPU cost is read in one run.
 * Writes bench/results/floor.{json,md}.
 *
 *   node dist-bench/benchmarks/floor.js [--duration 4s] [--out dir] [--before ../old/dist/cli/main.js]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchReport, RunResult } from '../src/bench/result.js';
import {
  type Child,
  CLI,
  cpuMs,
  issueBenchToken,
  log,
  NGINX_BIN,
  ROOT,
  runBenchProcess,
  SCENARIOS,
  spawnChild,
  startMockChild,
  startNginx,
  startProxyChild,
  UPSTREAM_KEY,
  waitForOutput,
  writeReport,
} from './harness-stack.js';

const FLOOR = fileURLToPath(new URL('./floor-proxy.js', import.meta.url));
const CELLS: Array<[string, number]> = [
  ['chat', 1],
  ['chat', 32],
  ['chat-stream', 32],
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '4s' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
      before: { type: 'string' },
    },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-floor-'));
  const children: Child[] = [];
  try {
    const mock = await startMockChild(CLI, UPSTREAM_KEY);
    children.push(mock.child);
    const data = path.join(dir, 'data');
    const proxy = await startProxyChild(CLI, data, mock.url, { LOG_LEVEL: 'info' });
    children.push(proxy.child);
    const { token } = await issueBenchToken(proxy.url, data, UPSTREAM_KEY);
    const floorChild = spawnChild(
      'floor proxy',
      process.execPath,
      [FLOOR, '--upstream', mock.url, '--key', UPSTREAM_KEY],
      {},
    );
    children.push(floorChild);
    const floorUrl = (await waitForOutput(floorChild, /listening on (http:\/\/\S+)/))[1] as string;
    const against = [`floor=${floorUrl}`];
    // Node targets whose CPU time is read around each cell (nginx's is not: it is the reference).
    const pids: Record<string, number> = { proxy: proxy.child.pid, floor: floorChild.pid };
    const warm: Array<readonly [string, string]> = [
      [proxy.url, token],
      [floorUrl, UPSTREAM_KEY],
    ];
    if (values.before) {
      const beforeData = path.join(dir, 'before');
      const before = await startProxyChild(path.resolve(values.before), beforeData, mock.url, { LOG_LEVEL: 'info' });
      children.push(before.child);
      const issued = await issueBenchToken(before.url, beforeData, UPSTREAM_KEY);
      against.push(`before=${before.url},token=${issued.token}`);
      pids.before = before.child.pid;
      warm.push([before.url, issued.token]);
    }
    if (existsSync(NGINX_BIN)) {
      mkdirSync(path.join(dir, 'nginx'));
      const nginx = await startNginx(path.join(dir, 'nginx'), new URL(mock.url), {});
      children.push(nginx.child);
      against.push(`nginx=${nginx.url}`);
    }

    log('warming up (JIT) the Node targets…');
    for (const [url, t] of warm) {
      await runBenchProcess([url, '-t', t, '--profile', 'mixed', '-c', '8', '-d', '8s']);
    }

    const cells: Cell[] = [];
    for (const [name, c] of CELLS) {
      const scenario = SCENARIOS.find((s) => s.name === name);
      if (!scenario) throw new Error(`unknown scenario ${name}`);
      log(`${name} c=${c} …`);
      const cpuBefore = readCpu(pids);
      const { report } = await runBenchProcess([
        '--direct',
        mock.url,
        '--direct-token',
        UPSTREAM_KEY,
        '--proxy',
        proxy.url,
        '-t',
        token,
        ...against.flatMap((a) => ['--against', a]),
        ...scenario.args,
        '-c',
        String(c),
        '-d',
        String(values.duration),
        '--rounds',
        '4',
        '--warmup',
        '1s',
      ]);
      cells.push({ scenario: name, concurrency: c, report, cpuUsPerRequest: cpuPerRequest(pids, cpuBefore, report) });
    }
    const md = render(cells, String(values.duration));
    writeReport(String(values.out), 'floor', md, { cells });
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Cell {
  scenario: string;
  concurrency: number;
  report: BenchReport;
  /** CPU time (user + system, all threads) per request of each Node target in this cell, µs. */
  cpuUsPerRequest: Record<string, number>;
}

function readCpu(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([label, pid]) => [label, cpuMs(pid) ?? 0]));
}

/** A target's CPU over the cell divided by every request it served in it (warm-up included). */
function cpuPerRequest(
  pids: Record<string, number>,
  before: Record<string, number>,
  report: BenchReport,
): Record<string, number> {
  const after = readCpu(pids);
  const out: Record<string, number> = {};
  for (const label of Object.keys(pids)) {
    const run = report.runs.find((r: RunResult) => r.label === label);
    const served = run ? run.requests.completed + run.warmup.requests : 0;
    if (served > 0) out[label] = (((after[label] ?? 0) - (before[label] ?? 0)) * 1000) / served;
  }
  return out;
}

function render(cells: Cell[], duration: string): string {
  const f = (n: number | null | undefined, d = 3) => (n === null || n === undefined ? '–' : n.toFixed(d));
  const signed = (n: number | null | undefined) =>
    n === null || n === undefined ? '–' : `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;
  const lines = [
    '# The floor: Node.js with no proxy logic, beside the proxy and nginx',
    '',
    `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'} · Node ${process.version} · ${duration} per target in 4 alternating rounds · reproduce: \`npm run bench:floor\``,
    '',
    "`floor` is Node's HTTP server in front of an undici pool, forwarding bytes and swapping the key, and nothing else (`src/bench/floor-proxy.ts`). `proxy` is llm-proxy with its full pipeline.",
    '',
    "`before` (when present) is a second llm-proxy started from another build (`--before`), in the same rounds. CPU µs/req is the target process's user + system time (all threads) over the cell divided by the requests it served.",
    '',
    '| scenario | c | target | req/s | / nginx | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs/req |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { scenario, concurrency, report, cpuUsPerRequest } of cells) {
    const nginx = report.runs.find((r) => r.label === 'nginx');
    for (const run of report.runs) {
      const pair = report.comparison?.pairs.find((p) => p.subject === run.label && p.baseline === 'direct');
      const ratio = nginx && run.label !== 'direct' ? `${(run.throughput.rps / nginx.throughput.rps).toFixed(2)}×` : '';
      lines.push(
        `| ${scenario} | ${concurrency} | ${run.label} | ${Math.round(run.throughput.rps)} | ${ratio} | ${f(run.latency_ms?.p50)} | ${f(run.latency_ms?.p99)} | ${signed(pair?.added_latency_ms?.p50)} | ${signed(pair?.added_latency_ms?.p99)} | ${f(cpuUsPerRequest[run.label], 0)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    log(`floor benchmark failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
