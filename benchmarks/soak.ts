#!/usr/bin/env node
/**
 * `npm run bench:soak`: memory over a long run. Starts the mock upstream and a proxy (full
 * pipeline: token check, limits, usage capture, logging), sends non-streamed chat at c=32 until
 * `--requests` (default 1,000,000) have completed, samples the proxy's resident memory every few
 * seconds, and writes bench/results/soak.{json,md}: RSS idle, after warm-up, at each quarter and at
 * the end, so growth (a leak) shows as a rising series rather than a plateau; and where the memory
 * is, idle and at the last sample under load (memory-probe.ts, loaded into the proxy).
 *
 * `--node` (repeatable) runs the proxy under each of these Node binaries in turn, one run each, in
 * one report (the mock and the load generator stay on the Node that runs this script);
 * `--node-flags` passes V8/Node flags to the proxy (e.g. `--max-semi-space-size=16`); a `--node` value
 * may carry flags of its own after the binary (`--node "/usr/bin/node --max-semi-space-size=16"`),
 * so variants alternate in one report. Each run also reports the proxy's CPU per request (all its
 * threads, user + system), which a loaded machine moves from run to run.
 *
 *   node dist-bench/benchmarks/soak.js [--requests 1000000] [--concurrency 32] [--out dir]
 *     [--node /opt/nodes/22.19.0/bin/node …] [--node-flags "--max-semi-space-size=16"] [--name soak]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BENCH,
  type Child,
  CLI,
  cpuMs,
  freePort,
  issueBenchToken,
  log,
  ROOT,
  rssKiB,
  spawnChild,
  startMockChild,
  UPSTREAM_KEY,
  waitForHttp,
  writeReport,
} from './harness-stack.js';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-probe.js');

/** What memory-probe.ts prints (MiB). */
interface Probe {
  rss: number;
  main_heap: { committed: number; used: number; spaces: Record<string, { committed: number; used: number }> };
  workers: Array<{ committed: number; used: number }>;
  external: number;
  array_buffers: number;
  smaps: { rss?: number; anonymous?: number; v8_pages?: number; file?: number };
  gc?: Record<string, { count: number; ms: number }>;
}

interface Run {
  node: string;
  version: string;
  flags: string;
  idle_rss_mib: number | null;
  /** The proxy's CPU time (every thread) over the load, µs per request. */
  cpu_us_per_request: number | null;
  samples: Array<{ t_s: number; rss_mib: number }>;
  probe_idle: Probe | null;
  probe_load: Probe | null;
  /** Right after the load: the GC totals of the whole run. */
  probe_end: Probe | null;
  report: { runs: Array<{ requests: { ok: number; errors: number }; throughput: { rps: number } }> };
}

const MIB = (kib: number | null) => (kib === null ? null : Math.round(kib / 102.4) / 10);

/** Asks the proxy for a memory-probe line (SIGUSR2) and returns it once printed. */
async function probe(child: Child): Promise<Probe | null> {
  const count = () => child.output().split('memory-probe ').length;
  const before = count();
  child.proc.kill('SIGUSR2');
  const until = Date.now() + 30_000; // a safety net for a probe that never answers
  while (count() === before) {
    if (Date.now() > until || child.proc.exitCode !== null) return null;
    await sleep(50);
  }
  const lines = child
    .output()
    .split('\n')
    .filter((l) => l.startsWith('memory-probe '));
  return JSON.parse((lines.at(-1) as string).slice('memory-probe '.length)) as Probe;
}

async function soakOne(node: string, flags: string[], mockUrl: string, total: number, c: string): Promise<Run> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-soak-'));
  const data = path.join(dir, 'data');
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const port = await freePort();
  const proxy = spawnChild(
    `proxy (${version})`,
    node,
    ['--title=llm-proxy-bench-proxy', ...flags, '--import', PROBE, CLI, 'serve'],
    {
      DATA_DIR: data,
      LISTEN_ADDR: `127.0.0.1:${port}`,
      OPENAI_API_URL: mockUrl,
      LOG_FILE: path.join(data, 'proxy.log'),
      // One token drives the whole load: let it use every connection (the default share is half).
      UPSTREAM_SHARE_PERCENT: '100',
    },
  );
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(proxy, `${url}/ready`);
    const { token } = await issueBenchToken(url, data, UPSTREAM_KEY);
    const idle = MIB(rssKiB(proxy.pid));
    const probeIdle = await probe(proxy);
    log(`${version} ${flags.join(' ')}: idle rss ${idle} MiB`);

    const samples: Run['samples'] = [];
    let probeLoad: Probe | null = null;
    const t0 = Date.now();
    const cpu0 = cpuMs(proxy.pid);
    const load = spawn(
      process.execPath,
      ['--title=llm-proxy-bench-load', BENCH, url, '-t', token, '-e', 'chat', '-c', c, '-n', String(total)].concat([
        '--json',
        '-',
        '--quiet',
      ]),
      { env: {}, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    load.stdout.on('data', (chunk) => (out += chunk));
    const done = new Promise<number | null>((resolve) => load.on('close', resolve));
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    while (!finished) {
      await Promise.race([sleep(5000), done]);
      if (finished) break;
      const rss = MIB(rssKiB(proxy.pid));
      if (rss !== null) samples.push({ t_s: Math.round((Date.now() - t0) / 1000), rss_mib: rss });
      probeLoad = (await probe(proxy)) ?? probeLoad;
      log(`  ${samples.at(-1)?.t_s}s rss ${samples.at(-1)?.rss_mib} MiB`);
    }
    if ((await done) !== 0) throw new Error('the load generator failed');
    const cpu1 = cpuMs(proxy.pid);
    const probeEnd = await probe(proxy);
    // A run shorter than one sampling period still gets its end point.
    if (samples.length === 0) {
      const rss = MIB(rssKiB(proxy.pid));
      if (rss !== null) samples.push({ t_s: Math.round((Date.now() - t0) / 1000), rss_mib: rss });
      probeLoad = probeEnd;
    }
    return {
      node,
      version,
      flags: flags.join(' '),
      idle_rss_mib: idle,
      cpu_us_per_request: cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) * 1000) / total),
      samples,
      probe_idle: probeIdle,
      probe_load: probeLoad,
      probe_end: probeEnd,
      report: JSON.parse(out) as Run['report'],
    };
  } finally {
    await proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const young = (p: Probe) =>
  Math.round(
    ((p.main_heap.spaces.new_space?.committed ?? 0) + (p.main_heap.spaces.new_large_object_space?.committed ?? 0)) * 10,
  ) / 10;

/** Where the memory is, from one probe: the rows of the breakdown table. */
function breakdown(p: Probe | null): string[] {
  if (!p) return ['–', '–', '–', '–', '–', '–', '–'];
  const r1 = (x: number) => `${Math.round(x * 10) / 10}`;
  const heap = p.main_heap.committed;
  const workers = p.workers.reduce((s, w) => s + w.committed, 0);
  const file = p.smaps.file ?? 0;
  // V8's pages beyond what the spaces hold: freed by a collection, kept for reuse or not yet unmapped.
  const idlePages = p.smaps.v8_pages === undefined ? undefined : Math.max(0, p.smaps.v8_pages - heap - workers);
  const native = p.rss - heap - workers - file - (idlePages ?? 0);
  return [
    `${p.rss}`,
    `${young(p)}`,
    r1(heap - young(p)),
    r1(workers),
    idlePages === undefined ? '–' : r1(idlePages),
    `${file}`,
    r1(native),
  ];
}

/** The main thread's GC time over the run, µs per request: young-generation (minor) and the rest. */
function gcPerRequest(r: Run, total: number): string {
  const sum = (p: Probe | null, minor: boolean) =>
    Object.entries(p?.gc ?? {})
      .filter(([k]) => (k === 'minor') === minor)
      .reduce((s, [, v]) => s + v.ms, 0);
  if (!r.probe_end?.gc) return '–';
  const us = (minor: boolean) =>
    Math.round(((sum(r.probe_end, minor) - sum(r.probe_idle, minor)) * 10_000) / total) / 10;
  const count = (r.probe_end.gc.minor?.count ?? 0) - (r.probe_idle?.gc?.minor?.count ?? 0);
  return `${us(true)} / ${us(false)} (${count.toLocaleString('en')} minor)`;
}

function markdown(runs: Run[], total: number, c: string): string {
  const pick = (r: Run, f: number) =>
    r.samples[Math.min(r.samples.length - 1, Math.floor(f * (r.samples.length - 1)))]?.rss_mib ?? '–';
  const head = (r: Run) => `${r.version}${r.flags ? ` ${r.flags}` : ''}`;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? '–';
  const rows = [
    ['idle, before load', (r: Run) => r.idle_rss_mib ?? '–'],
    ['first sample (5 s)', (r: Run) => r.samples[0]?.rss_mib ?? '–'],
    ['25% of the run', (r: Run) => pick(r, 0.25)],
    ['50%', (r: Run) => pick(r, 0.5)],
    ['75%', (r: Run) => pick(r, 0.75)],
    ['end', (r: Run) => pick(r, 1)],
    [
      'plateau (median, second half)',
      (r: Run) => median(r.samples.slice(Math.floor(r.samples.length / 2)).map((s) => s.rss_mib)),
    ],
    ['maximum', (r: Run) => Math.max(...r.samples.map((s) => s.rss_mib))],
  ] as const;
  const where = [
    'resident (RSS)',
    'main isolate: young generation',
    'main isolate: rest of the heap',
    'usage worker thread heap',
    'V8 pages held outside the heaps (freed, not yet returned)',
    'file-backed (binary, libraries)',
    'native (the rest: malloc, buffers, stacks)',
  ];
  const bd = runs.map((r) => [breakdown(r.probe_idle), breakdown(r.probe_load)]);
  return [
    '# Soak: proxy memory over a long run',
    '',
    `${new Date().toISOString()} · ${total.toLocaleString('en')} non-streamed chat requests at c=${c} per Node line · ${os.cpus().length} cores · reproduce: \`npm run bench:soak\`${runs.length > 1 ? ` with \`--node\` for each line` : ''}`,
    '',
    ...runs.map((r) => {
      const run = r.report.runs[0];
      return `${head(r)}: ok ${run?.requests.ok.toLocaleString('en')}, errors ${run?.requests.errors}, ${Math.round(run?.throughput.rps ?? 0)} req/s, proxy CPU ${r.cpu_us_per_request ?? '–'} µs per request.`;
    }),
    '',
    `| proxy RSS (MiB) | ${runs.map(head).join(' | ')} |`,
    `| --- | ${runs.map(() => '---:').join(' | ')} |`,
    ...rows.map(([label, f]) => `| ${label} | ${runs.map((r) => f(r)).join(' | ')} |`),
    '',
    'Where it is (MiB; memory-probe.ts in the proxy: V8 heap statistics, committed; /proc/self/smaps), idle / at the last sample under load:',
    '',
    `| part | ${runs.map(head).join(' | ')} |`,
    `| --- | ${runs.map(() => '---:').join(' | ')} |`,
    ...where.map((label, i) => `| ${label} | ${bd.map(([idle, load]) => `${idle?.[i]} / ${load?.[i]}`).join(' | ')} |`),
    `| main-thread GC over the run, µs per request: young / old generation | ${runs.map((r) => gcPerRequest(r, total)).join(' | ')} |`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '1000000' },
      concurrency: { type: 'string', default: '32' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
      node: { type: 'string', multiple: true },
      'node-flags': { type: 'string', default: '' },
      name: { type: 'string', default: 'soak' },
    },
  });
  const total = Number(values.requests);
  const nodes = values.node?.length ? values.node : [process.execPath];
  const common = values['node-flags'].split(/\s+/).filter(Boolean);
  const mock = await startMockChild(CLI, UPSTREAM_KEY);
  try {
    const runs: Run[] = [];
    for (const spec of nodes) {
      const [node, ...own] = spec.split(/\s+/).filter(Boolean);
      runs.push(await soakOne(node ?? process.execPath, [...common, ...own], mock.url, total, values.concurrency));
    }
    writeReport(values.out, values.name, markdown(runs, total, values.concurrency), { total, runs });
  } finally {
    await mock.child.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    log(`soak failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
