#!/usr/bin/env node
/**
 * `npm run bench:realtime`: the time a Realtime API frame takes through llm-proxy against the same
 * frame straight to the mock upstream, with N sessions open at once (default 200). The mock and
 * the proxy are child processes; the sessions are `ws` clients in this one. Each round opens all
 * N sessions to one target, then every session sends F `mock.echo` text frames (default 50, about
 * 1 KiB each), one every 100 ms (`--interval-ms`: an audio append's pace), timing each echo; then the same
 * against the other target (alternating which goes first). Prints the echo time's p50/p99 for both
 * and the p99 the proxy adds (proxy − direct, per round and overall), and writes
 * bench/results/realtime.{json,md}.
 *
 *   node dist-bench/benchmarks/realtime-frames.js [--sessions 200] [--frames 50] [--rounds 3] [--interval-ms 100] [--out dir]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import {
  type Child,
  CLI,
  issueBenchToken,
  log,
  ROOT,
  startBareProxy,
  startMockChild,
  startProxyChild,
  UPSTREAM_KEY,
  writeReport,
} from './harness-stack.js';

interface Figures {
  p50: number;
  p99: number;
}

export interface RealtimeBenchResult {
  sessions: number;
  frames: number;
  rounds: number;
  /** Each session sends a frame this often (ms): 100 is an audio append every 100 ms. */
  intervalMs: number;
  /** Echo time of one frame over all rounds, ms. */
  direct: Figures;
  /** Through a bare `ws` relay (benchmarks/floor-proxy.ts): the floor of a Node relay. */
  floor: Figures;
  proxy: Figures;
  /** Each round's p99 per target, ms. */
  perRound: Array<Record<RealtimeTarget, number>>;
  /** Median over rounds of proxy − direct p99, ms. */
  addedP99: number;
  /** Median over rounds of proxy − bare relay p99, ms. */
  addedP99OverFloor: number;
}

const PAYLOAD = 'x'.repeat(1000);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Opens `n` sessions at `url` with `headers`; resolves when all are open. */
async function openSessions(url: string, headers: Record<string, string>, n: number): Promise<WebSocket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, { headers, perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
}

/** Every session sends `frames` echo frames one after another; returns every echo time (ms). */
async function echoTimes(sockets: WebSocket[], frames: number, intervalMs: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    sockets.map(async (ws, k) => {
      // Sessions start spread over one interval, as independent callers would.
      const start = performance.now() + (k / sockets.length) * intervalMs;
      for (let i = 0; i < frames; i++) {
        const due = start + i * intervalMs - performance.now();
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
        const t = performance.now();
        await new Promise<void>((resolve) => {
          const onMessage = (data: Buffer) => {
            if (!data.toString('latin1', 0, 40).includes('mock.echo')) return;
            ws.off('message', onMessage);
            resolve();
          };
          ws.on('message', onMessage);
          ws.send(JSON.stringify({ type: 'mock.echo', i, payload: PAYLOAD }));
        });
        times.push(performance.now() - t);
      }
    }),
  );
  return times;
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.close(1000);
        }),
    ),
  );
}

export type RealtimeTarget = 'direct' | 'floor' | 'proxy';
const TITLES: Record<RealtimeTarget, string> = {
  direct: 'direct to the mock',
  floor: 'bare `ws` relay',
  proxy: 'through llm-proxy',
};

/**
 * Runs the rounds against each target's URL (`key` sent as the Bearer token), rotating which goes
 * first. The p99 added is taken per round, against targets that shared the machine's load of the
 * moment, and the median over rounds reported: one round's p99 on a busy machine says more about
 * the machine than about the relay.
 */
export async function measureRealtime(
  targets: Record<RealtimeTarget, { url: string; key: string }>,
  sessions: number,
  frames: number,
  rounds: number,
  intervalMs: number,
): Promise<RealtimeBenchResult> {
  const names: RealtimeTarget[] = ['direct', 'floor', 'proxy'];
  const all: Record<RealtimeTarget, number[]> = { direct: [], floor: [], proxy: [] };
  const perRound: RealtimeBenchResult['perRound'] = [];
  for (let r = 0; r < rounds; r++) {
    const p99 = { direct: 0, floor: 0, proxy: 0 };
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length] as RealtimeTarget;
      const t = targets[name];
      const url = `${t.url.replace(/^http/, 'ws')}/v1/realtime?model=gpt-realtime`;
      const sockets = await openSessions(url, { authorization: `Bearer ${t.key}` }, sessions);
      const times = (await echoTimes(sockets, frames, intervalMs)).sort((a, b) => a - b);
      await closeAll(sockets);
      p99[name] = quantile(times, 0.99);
      all[name].push(...times);
      log(`round ${r + 1} ${name}: p50 ${quantile(times, 0.5).toFixed(3)} ms, p99 ${p99[name].toFixed(3)} ms`);
    }
    perRound.push(p99);
  }
  const figures = (xs: number[]): Figures => {
    const s = xs.sort((a, b) => a - b);
    return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };
  };
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
  return {
    sessions,
    frames,
    rounds,
    intervalMs,
    direct: figures(all.direct),
    floor: figures(all.floor),
    proxy: figures(all.proxy),
    perRound,
    addedP99: median(perRound.map((p) => p.proxy - p.direct)),
    addedP99OverFloor: median(perRound.map((p) => p.proxy - p.floor)),
  };
}

export function renderRealtime(r: RealtimeBenchResult): string {
  const ms = (n: number) => `${n.toFixed(3)} ms`;
  const rows = (['direct', 'floor', 'proxy'] as const).map(
    (t) => `| ${TITLES[t]} | ${ms(r[t].p50)} | ${ms(r[t].p99)} |`,
  );
  const rounds = r.perRound.map(
    (p, i) => `| ${i + 1} | ${ms(p.direct)} | ${ms(p.floor)} | ${ms(p.proxy)} | ${ms(p.proxy - p.direct)} |`,
  );
  return `# Realtime API: frame echo time, ${r.sessions} sessions open

${r.rounds} rounds; each session sends ${r.frames} frames of about 1 KiB, one every ${r.intervalMs} ms.

| Target | p50 | p99 |
| --- | --- | --- |
${rows.join('\n')}

| Round | p99 direct | p99 bare relay | p99 llm-proxy | added by llm-proxy |
| --- | --- | --- | --- | --- |
${rounds.join('\n')}

p99 added by llm-proxy (median over rounds): ${ms(r.addedP99)} over direct, ${ms(r.addedP99OverFloor)} over the bare relay.
`;
}

function settings() {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '200' },
      frames: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
      'interval-ms': { type: 'string', default: '100' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    },
  });
  const n = (v: string | undefined, name: string) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a whole number of at least 1`);
    return x;
  };
  return {
    sessions: n(values.sessions, 'sessions'),
    frames: n(values.frames, 'frames'),
    rounds: n(values.rounds, 'rounds'),
    intervalMs: n(values['interval-ms'], 'interval-ms'),
    out: values.out as string,
  };
}

async function main(): Promise<void> {
  const s = settings();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-bench-realtime-'));
  const children: Child[] = [];
  try {
    const mock = await startMockChild(CLI, UPSTREAM_KEY);
    children.push(mock.child);
    const floor = await startBareProxy(mock.url);
    children.push(floor.child);
    const floorUrl = floor.url;
    const proxy = await startProxyChild(CLI, path.join(dir, 'data'), mock.url);
    children.push(proxy.child);
    const { token } = await issueBenchToken(proxy.url, path.join(dir, 'data'), UPSTREAM_KEY);
    log(
      `mock ${mock.url}, bare relay ${floorUrl}, proxy ${proxy.url}: ${s.rounds} rounds of ${s.sessions} sessions × ${s.frames} frames`,
    );
    const result = await measureRealtime(
      {
        direct: { url: mock.url, key: UPSTREAM_KEY },
        floor: { url: floorUrl, key: 'sk-any' },
        proxy: { url: proxy.url, key: token },
      },
      s.sessions,
      s.frames,
      s.rounds,
      s.intervalMs,
    );
    writeReport(s.out, 'realtime', renderRealtime(result), result);
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('benchmarks', 'realtime-frames.js'))) {
  main().catch((err: unknown) => {
    log(`bench:realtime failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
}
