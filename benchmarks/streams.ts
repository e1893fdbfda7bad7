#!/usr/bin/env node
/**
 * `npm run bench:streams`: time to first byte of N concurrent streams (default 1,000), straight to
 * the mock upstream and through llm-proxy at its default settings, in the same run. The mock and
 * the proxy are child processes and the streams come from `llm-proxy bench` in a third, so no
 * side's event loop delays another's. Each round opens all N streams at once against one target,
 * then against the other (alternating which goes first); each stream is 10 chunks 100 ms apart, so
 * all N are open together. Prints TTFB p50/p99 of both and their ratio, and writes
 * bench/results/streams.{json,md}.
 *
 *   node dist-bench/benchmarks/streams.js [--streams 1000] [--rounds 3] [--out dir]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunResult } from '../src/bench/result.js';
import {
  type Child,
  CLI,
  headerArgs,
  issueBenchToken,
  log,
  ROOT,
  runBenchProcess,
  startMockChild,
  startProxyChild,
  UPSTREAM_KEY,
  writeReport,
} from './harness-stack.js';

/** How the mock paces each stream: long enough that every stream of a round is open at once. */
export const STREAM_HOLD = { 'x-mock-chunks': '10', 'x-mock-chunk-delay-ms': '100' };

interface Figures {
  p50: number;
  p99: number;
}

export interface StreamsResult {
  streams: number;
  rounds: number;
  direct: Figures;
  proxy: Figures;
  /** proxy / direct. */
  ratio: Figures;
  /** proxy / direct of TTFB p99 within each round: pairs that shared the machine's load of the moment. */
  roundRatios: number[];
  errors: { direct: number; proxy: number };
  /** What failed, for diagnosis: statuses other than 200 and transport errors, per target. */
  failures: { direct: Record<string, number>; proxy: Record<string, number> };
}

function settings() {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    },
  });
  const streams = Number(values.streams);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(streams) || streams < 1)
    throw new Error(`--streams: not a positive integer: ${values.streams}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: not a positive integer: ${values.rounds}`);
  return { streams, rounds, out: String(values.out) };
}

const figures = (r: RunResult | undefined): Figures => ({
  p50: r?.ttfb_ms?.p50 ?? Number.NaN,
  p99: r?.ttfb_ms?.p99 ?? Number.NaN,
});
const failures = (r: RunResult | undefined): Record<string, number> => {
  const out: Record<string, number> = { ...r?.error_messages };
  for (const [status, n] of Object.entries(r?.status ?? {})) if (status !== '200') out[`status ${status}`] = n;
  return out;
};
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/** Runs the rounds against a running mock and proxy (the test drives this too, with its own stack). */
export async function measureStreams(
  mockUrl: string,
  proxyUrl: string,
  token: string,
  streams: number,
  rounds: number,
): Promise<StreamsResult> {
  const { report } = await runBenchProcess([
    '--direct',
    mockUrl,
    '--direct-token',
    UPSTREAM_KEY,
    '--proxy',
    proxyUrl,
    '--token',
    token,
    '-e',
    'chat',
    '--stream',
    ...headerArgs(STREAM_HOLD),
    '-c',
    String(streams),
    '-n',
    String(streams * rounds),
    '--rounds',
    String(rounds),
    '--warmup',
    '0s',
    '--timeout',
    '120s',
  ]);
  const run = (label: string) => report.runs.find((r) => r.label === label);
  const inRound = (round: number, label: string) =>
    report.comparison?.round_detail.find((d) => d.round === round && d.label === label)?.ttfb_p99_ms ?? Number.NaN;
  const roundRatios = Array.from({ length: rounds }, (_, i) =>
    ratio(inRound(i + 1, 'proxy'), inRound(i + 1, 'direct')),
  );
  const direct = figures(run('direct'));
  const proxy = figures(run('proxy'));
  return {
    streams,
    rounds,
    direct,
    proxy,
    ratio: { p50: ratio(proxy.p50, direct.p50), p99: ratio(proxy.p99, direct.p99) },
    roundRatios,
    errors: { direct: run('direct')?.requests.errors ?? -1, proxy: run('proxy')?.requests.errors ?? -1 },
    failures: { direct: failures(run('direct')), proxy: failures(run('proxy')) },
  };
}

export function renderStreams(r: StreamsResult): string {
  const row = (name: string, f: Figures) => `| ${name} | ${f.p50} | ${f.p99} |`;
  return [
    `# ${r.streams} concurrent streams: time to first byte`,
    '',
    `${r.rounds} rounds, alternating; each stream 10 chunks 100 ms apart. Errors: direct ${r.errors.direct}, proxy ${r.errors.proxy}.`,
    '',
    '| target | TTFB p50 (ms) | TTFB p99 (ms) |',
    '| --- | ---: | ---: |',
    row('mock upstream, direct', r.direct),
    row('through llm-proxy', r.proxy),
    row('ratio (proxy / direct)', r.ratio),
    '',
    `TTFB p99 ratio within each round: ${r.roundRatios.join(', ')}.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const s = settings();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-bench-streams-'));
  const children: Child[] = [];
  try {
    const mock = await startMockChild(CLI, UPSTREAM_KEY);
    children.push(mock.child);
    // Default settings, but for the share: the bench's one token stands for many tenants.
    const proxy = await startProxyChild(CLI, path.join(dir, 'data'), mock.url, { UPSTREAM_SHARE_PERCENT: '50' });
    children.push(proxy.child);
    const { token } = await issueBenchToken(proxy.url, path.join(dir, 'data'), UPSTREAM_KEY);
    log(`mock ${mock.url}, proxy ${proxy.url}: ${s.rounds} rounds of ${s.streams} concurrent streams each`);
    const result = await measureStreams(mock.url, proxy.url, token, s.streams, s.rounds);
    writeReport(s.out, 'streams', renderStreams(result), result);
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('benchmarks', 'streams.js'))) {
  main().catch((err: unknown) => {
    log(`bench:streams failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
}
