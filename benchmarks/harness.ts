#!/usr/bin/env node
/**
 * `npm run bench`: starts the mock upstream, a proxy (fresh SQLite, a project and a token, logging
 * to a file) and nginx in front of the same mock, then compares direct, proxy and nginx for
 * non-streamed chat, streamed chat and embeddings at several concurrencies, each cell in
 * alternating rounds by a load generator in a process of its own. Writes bench/results/latest.{json,md}
 * and dated copies.
 *
 *   node dist-bench/benchmarks/harness.js [--quick] [--no-nginx] [--no-hold] [--out dir] [--note text] [--wait-quiet 5m]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/bench/units.js';
import { type CellResult, HARNESS_SCHEMA, type HarnessReport, headline, renderMarkdown } from './harness-report.js';
import {
  BENCH,
  type Child,
  CLI,
  cpuMs,
  freePort,
  jsonCall,
  log,
  machineBusyMs,
  NGINX_BIN,
  nginxVersion,
  ROOT,
  rssKiB,
  runBenchProcess,
  SCENARIOS,
  type Scenario,
  spawnChild,
  startNginx,
  treeCpuMs,
  UPSTREAM_KEY,
  waitForHttp,
  waitForOutput,
} from './harness-stack.js';

const HOLD: Scenario = {
  name: 'stream-hold',
  title: '1000 concurrent streams held open (20 chunks, 50 ms apart)',
  args: ['-e', 'chat', '--stream', '-H', 'x-mock-chunks: 20', '-H', 'x-mock-chunk-delay-ms: 50'],
};

interface Settings {
  quick: boolean;
  nginx: boolean;
  hold: boolean;
  out: string;
  /** Printed under the title, e.g. which commit the proxy was built from. */
  note: string | null;
  /** Before starting, wait up to this long for other processes to leave the cores alone. */
  waitQuietMs: number;
  concurrencies: number[];
  rounds: number;
  roundMs: number;
  warmupMs: number;
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-nginx': { type: 'boolean', default: false },
      'no-hold': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
      note: { type: 'string' },
      'wait-quiet': { type: 'string' },
    },
  });
  const quick = values.quick === true;
  return {
    quick,
    nginx: !values['no-nginx'] && existsSync(NGINX_BIN),
    // The 1000-stream cell takes ~25 s; the quick run leaves it out.
    hold: !quick && !values['no-hold'],
    out: path.resolve(values.out as string),
    note: values.note ?? null,
    waitQuietMs: values['wait-quiet'] === undefined ? 0 : parseDuration(values['wait-quiet']),
    concurrencies: [1, 8, 32],
    rounds: quick ? 3 : 5,
    roundMs: quick ? 200 : 800,
    warmupMs: quick ? 200 : 500,
  };
}

interface Stack {
  dir: string;
  mock: Child;
  mockUrl: string;
  proxy: Child;
  proxyUrl: string;
  proxyToken: string;
  nginx: { child: Child; url: string } | null;
  proxyEnv: Record<string, string>;
}

async function startStack(s: Settings, children: Child[]): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-bench-'));
  // Children get a clean environment (binaries are started by absolute path): no host setting leaks in.
  const env: Record<string, string> = {};

  // --title names the processes (in ps and /proc/<pid>/cmdline) so nobody mistakes them for theirs.
  const mock = spawnChild(
    'mock upstream',
    process.execPath,
    ['--title=llm-proxy-bench-mock', CLI, 'mock-upstream', '--port', '0', '--api-key', UPSTREAM_KEY],
    env,
  );
  children.push(mock);
  const mockUrl = (await waitForOutput(mock, /listening on (http:\/\/\S+)/))[1] as string;
  log(`mock upstream  ${mockUrl} (pid ${mock.pid})`);

  const port = await freePort();
  const proxyEnv: Record<string, string> = {
    DATA_DIR: path.join(dir, 'data'),
    LISTEN_ADDR: `127.0.0.1:${port}`,
    OPENAI_API_URL: mockUrl,
    LOG_LEVEL: 'info',
    LOG_FILE: path.join(dir, 'proxy.log'),
    // One token drives the whole load: let it use every connection (the default share is half;
    // the 1000 held streams fit in it too, at the default of 4096 connections).
    UPSTREAM_SHARE_PERCENT: '100',
  };
  const proxy = spawnChild('proxy', process.execPath, ['--title=llm-proxy-bench-proxy', CLI, 'serve'], {
    ...env,
    ...proxyEnv,
  });
  children.push(proxy);
  const proxyUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(proxy, `${proxyUrl}/ready`);
  log(`proxy          ${proxyUrl} (pid ${proxy.pid}), data ${proxyEnv.DATA_DIR}, log ${proxyEnv.LOG_FILE}`);

  const management = readFileSync(path.join(proxyEnv.DATA_DIR as string, 'management-token'), 'utf8').trim();
  const project = await jsonCall<{ id: string }>('POST', `${proxyUrl}/manage/projects`, management, {
    name: 'bench',
    api_key: UPSTREAM_KEY,
  });
  if (project.status !== 201) throw new Error(`creating a project: ${project.status} ${JSON.stringify(project.body)}`);
  const token = await jsonCall<{ token: string }>('POST', `${proxyUrl}/manage/tokens`, management, {
    project_id: project.body.id,
    name: 'bench',
  });
  if (token.status !== 201) throw new Error(`creating a token: ${token.status} ${JSON.stringify(token.body)}`);

  let nginx: Stack['nginx'] = null;
  if (s.nginx) {
    nginx = await startNginx(path.join(dir), new URL(mockUrl), env);
    children.push(nginx.child);
    await waitForHttp(nginx.child, `${nginx.url}/v1/models`, { authorization: `Bearer ${UPSTREAM_KEY}` });
    log(`nginx          ${nginx.url} (pid ${nginx.child.pid})`);
  }
  return { dir, mock, mockUrl, proxy, proxyUrl, proxyToken: token.body.token, nginx, proxyEnv };
}

function compareArgs(
  stack: Stack,
  scenario: Scenario,
  concurrency: number,
  rounds: number,
  roundMs: number,
  warmupMs: number,
) {
  return [
    '--direct',
    stack.mockUrl,
    '--direct-token',
    UPSTREAM_KEY,
    '--proxy',
    stack.proxyUrl,
    '--token',
    stack.proxyToken,
    ...(stack.nginx ? ['--against', `nginx=${stack.nginx.url}`] : []),
    ...scenario.args,
    '-c',
    String(concurrency),
    '-d',
    `${(rounds * roundMs) / 1000}s`,
    '--rounds',
    String(rounds),
    '--warmup',
    `${warmupMs}ms`,
  ];
}

async function runCell(
  stack: Stack,
  scenario: Scenario,
  concurrency: number,
  rounds: number,
  roundMs: number,
  warmupMs: number,
): Promise<CellResult> {
  const cpu = () => ({
    proxy: cpuMs(stack.proxy.pid) ?? 0,
    mock: cpuMs(stack.mock.pid) ?? 0,
    nginx: stack.nginx ? (treeCpuMs(stack.nginx.child.pid) ?? 0) : 0,
  });
  const before = cpu();
  const busyBefore = machineBusyMs();
  const selfBefore = process.cpuUsage();
  const t0 = Date.now();
  const { report, cpuMs: loadCpu } = await runBenchProcess(
    compareArgs(stack, scenario, concurrency, rounds, roundMs, warmupMs),
  );
  const wall = (Date.now() - t0) / 1000;
  const after = cpu();
  const busyAfter = machineBusyMs();
  const self = process.cpuUsage(selfBefore);
  const ours =
    after.proxy -
    before.proxy +
    (after.mock - before.mock) +
    (after.nginx - before.nginx) +
    loadCpu +
    (self.user + self.system) / 1000;
  const served = (label: string) => {
    const r = report.runs.find((x) => x.label === label);
    return r ? r.requests.sent + r.warmup.requests : 0;
  };
  const perRequest = (ms: number, n: number) => (n > 0 ? Math.round(((ms * 1000) / n) * 10) / 10 : null);
  return {
    scenario: scenario.name,
    title: scenario.title,
    concurrency,
    wall_s: wall,
    cpu_ms: {
      proxy: after.proxy - before.proxy,
      mock: after.mock - before.mock,
      nginx: after.nginx - before.nginx,
      load_generator: loadCpu,
      // Whatever else ran on the machine meanwhile: it competes for the same cores.
      other: busyBefore === null || busyAfter === null ? null : Math.max(0, Math.round(busyAfter - busyBefore - ours)),
    },
    cpu_us_per_request: {
      proxy: perRequest(after.proxy - before.proxy, served('proxy')),
      nginx: stack.nginx ? perRequest(after.nginx - before.nginx, served('nginx')) : null,
    },
    report,
  };
}

/** What the servers were doing, for a failed cell. */
function diagnose(stack: Stack): string {
  return [stack.proxy, stack.mock, ...(stack.nginx ? [stack.nginx.child] : [])]
    .map((c) => {
      const { exitCode, signalCode } = c.proc;
      const state = exitCode === null && signalCode === null ? 'running' : `exited (${exitCode ?? signalCode})`;
      return `--- ${c.name} (pid ${c.pid}) ${state}; last output:\n${c.output().slice(-3000)}`;
    })
    .join('\n');
}

function machine(nginx: boolean) {
  const cpus = os.cpus();
  let commit: string | null = null;
  let dirty = false;
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    commit = git(['rev-parse', '--short', 'HEAD']);
    dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  } catch {}
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    memory_gib: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: nginx ? nginxVersion() : null,
    git: commit ? { commit, dirty } : null,
  };
}

/** Share of one core the machine is busy over `ms` (before the harness starts anything: all foreign). */
async function busyShare(ms: number): Promise<number | null> {
  const a = machineBusyMs();
  await sleep(ms);
  const b = machineBusyMs();
  return a === null || b === null ? null : ((b - a) / ms) * 100;
}

async function waitForQuiet(maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  for (;;) {
    const busy = await busyShare(2000);
    if (busy === null || busy < 25) return;
    if (Date.now() > until) {
      log(`the machine is still busy (${busy.toFixed(0)}% of a core); measuring anyway`);
      return;
    }
    log(`other processes use ${busy.toFixed(0)}% of a core; waiting for a quiet machine…`);
    await sleep(5000);
  }
}

async function main(): Promise<void> {
  const s = settings();
  if (!existsSync(CLI) || !existsSync(BENCH)) throw new Error('dist/ is missing: run `npm run build` first');
  const children: Child[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(children.map((c) => c.stop()));
  };
  process.once('SIGINT', () => {
    log('\ninterrupted: stopping the stack');
    void stopAll().then(() => process.exit(130));
  });

  if (s.waitQuietMs > 0) await waitForQuiet(s.waitQuietMs);
  const started = new Date();
  const command = `npm run bench${s.quick ? ' -- --quick' : ''}`;
  log(`${command}: ${s.quick ? 'quick' : 'full'} run, ${s.rounds} rounds × ${s.roundMs} ms per target per cell`);
  let stack: Stack | undefined;
  try {
    stack = await startStack(s, children);
    const rss = {
      start_kib: rssKiB(stack.proxy.pid),
      after_warmup_kib: null as number | null,
      end_kib: null as number | null,
    };

    // One warm-up of the whole pipeline (JIT, token cache, usage writer) before any measurement.
    log('warming up the proxy (mixed profile)…');
    const { report: warm } = await runBenchProcess([
      stack.proxyUrl,
      '--token',
      stack.proxyToken,
      '--profile',
      'mixed',
      '-c',
      '8',
      '-d',
      s.quick ? '2s' : '10s',
    ]);
    let proxyRequests = warm.runs[0]?.requests.sent ?? 0;
    rss.after_warmup_kib = rssKiB(stack.proxy.pid);

    const cells: CellResult[] = [];
    const plan: [Scenario, number, number, number, number][] = [];
    for (const sc of SCENARIOS) for (const c of s.concurrencies) plan.push([sc, c, s.rounds, s.roundMs, s.warmupMs]);
    if (s.hold) plan.push([HOLD, 1000, 2, 3000, 1500]);
    for (const [i, [sc, c, rounds, roundMs, warmupMs]] of plan.entries()) {
      if (stopping) break;
      process.stderr.write(`[${i + 1}/${plan.length}] ${sc.name} c=${c} … `);
      let cell: CellResult;
      try {
        cell = await runCell(stack, sc, c, rounds, roundMs, warmupMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${diagnose(stack)}`);
      }
      cells.push(cell);
      const proxy = cell.report.runs.find((r) => r.label === 'proxy');
      proxyRequests += (proxy?.requests.sent ?? 0) + (proxy?.warmup.requests ?? 0);
      const p = cell.report.comparison?.pairs.find((x) => x.subject === 'proxy' && x.baseline === 'direct');
      log(
        `${cell.wall_s.toFixed(1)}s: proxy ${proxy?.throughput.rps.toFixed(0)} req/s, ` +
          `added p50 ${p?.added_latency_ms?.p50} ms, p99 ${p?.added_latency_ms?.p99} ms`,
      );
    }
    rss.end_kib = rssKiB(stack.proxy.pid);

    const report: HarnessReport = {
      schema: HARNESS_SCHEMA,
      mode: s.quick ? 'quick' : 'full',
      command,
      note: s.note,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine: machine(stack.nginx !== null),
      setup: {
        rounds: s.rounds,
        round_s: s.roundMs / 1000,
        warmup_s: s.warmupMs / 1000,
        proxy_env: Object.fromEntries(
          Object.entries(stack.proxyEnv).filter(([k]) => !['DATA_DIR', 'LOG_FILE'].includes(k)),
        ),
        nginx: stack.nginx !== null,
      },
      proxy_rss_kib: rss,
      proxy_requests_total: proxyRequests,
      cells,
      headline: { targets: [] },
    };
    report.headline = headline(report);
    mkdirSync(s.out, { recursive: true });
    const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
    const md = renderMarkdown(report);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    writeFileSync(path.join(s.out, 'latest.json'), json);
    writeFileSync(path.join(s.out, 'latest.md'), md);
    writeFileSync(path.join(s.out, `${stamp}-${report.mode}.json`), json);
    writeFileSync(path.join(s.out, `${stamp}-${report.mode}.md`), md);
    process.stdout.write(md);
    log(`\nwrote ${path.join(s.out, 'latest.md')} and latest.json (and ${stamp}-${report.mode}.*)`);
  } finally {
    await stopAll();
    if (stack) rmSync(stack.dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench harness failed: ${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
