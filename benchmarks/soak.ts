#!/usr/bin/env node
/**
 * `npm run bench:soak`: memory over a long run. Starts the mock upstream and a proxy (full
 * pipeline: token check, limits, usage capture, logging), sends non-streamed chat at c=32 until
 * `--requests` (default 1,000,000) have completed, samples the proxy's resident memory every few
 * seconds, and writes bench/results/soak.{json,md}: RSS after warm-up, at each quarter and at the
 * end, so growth (a leak) shows as a rising series rather than a plateau.
 *
 *   node dist-bench/benchmarks/soak.js [--requests 1000000] [--concurrency 32] [--out dir]
 */
import { spawn } from 'node:child_process';
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
  issueBenchToken,
  log,
  ROOT,
  rssKiB,
  startMockChild,
  startProxyChild,
  UPSTREAM_KEY,
  writeReport,
} from './harness-stack.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '1000000' },
      concurrency: { type: 'string', default: '32' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    },
  });
  const total = Number(values.requests);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-soak-'));
  const children: Child[] = [];
  try {
    const mock = await startMockChild(CLI, UPSTREAM_KEY);
    children.push(mock.child);
    const proxy = await startProxyChild(CLI, path.join(dir, 'data'), mock.url);
    children.push(proxy.child);
    const { token } = await issueBenchToken(proxy.url, path.join(dir, 'data'), UPSTREAM_KEY);
    const startRss = rssKiB(proxy.child.pid);

    const samples: Array<{ t_s: number; rss_mib: number }> = [];
    const t0 = Date.now();
    const load = spawn(
      process.execPath,
      [
        '--title=llm-proxy-bench-load',
        BENCH,
        proxy.url,
        '-t',
        token,
        '-e',
        'chat',
        '-c',
        String(values.concurrency),
        '-n',
        String(total),
        '--json',
        '-',
        '--quiet',
      ],
      { env: {}, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    load.stdout.on('data', (c) => (out += c));
    const done = new Promise<number | null>((resolve) => load.on('close', resolve));
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    while (!finished) {
      const rss = rssKiB(proxy.child.pid);
      if (rss !== null)
        samples.push({ t_s: Math.round((Date.now() - t0) / 1000), rss_mib: Math.round(rss / 102.4) / 10 });
      log(`  ${samples.at(-1)?.t_s}s rss ${samples.at(-1)?.rss_mib} MiB`);
      await Promise.race([sleep(5000), done]);
    }
    if ((await done) !== 0) throw new Error('the load generator failed');
    const report = JSON.parse(out) as {
      runs: Array<{ requests: { ok: number; errors: number }; throughput: { rps: number } }>;
    };
    const run = report.runs[0];
    const pick = (f: number) => samples[Math.min(samples.length - 1, Math.floor(f * (samples.length - 1)))]?.rss_mib;
    const md = [
      '# Soak: proxy memory over a long run',
      '',
      `${new Date().toISOString()} · ${total.toLocaleString('en')} non-streamed chat requests at c=${values.concurrency} · reproduce: \`npm run bench:soak\``,
      '',
      `Requests ok: ${run?.requests.ok.toLocaleString('en')}, errors: ${run?.requests.errors}, throughput ${Math.round(run?.throughput.rps ?? 0)} req/s.`,
      '',
      '| point | proxy RSS (MiB) |',
      '| --- | ---: |',
      `| idle, before load | ${startRss === null ? '–' : Math.round(startRss / 102.4) / 10} |`,
      `| 25% of the run | ${pick(0.25)} |`,
      `| 50% | ${pick(0.5)} |`,
      `| 75% | ${pick(0.75)} |`,
      `| end | ${pick(1)} |`,
      `| maximum | ${Math.max(...samples.map((s) => s.rss_mib))} |`,
      '',
    ].join('\n');
    writeReport(String(values.out), 'soak', md, { total, samples, report });
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    log(`soak failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
