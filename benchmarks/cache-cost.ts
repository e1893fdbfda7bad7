#!/usr/bin/env node
/**
 * `npm run bench:cache`: what the response cache costs and saves, as CPU of the proxy process per
 * request (user + system, from /proc), against a mock upstream in another process. Modes, in
 * alternating rounds so the machine's drift touches each alike:
 * - `forwarded`: a project without a cache (the path every request took before the cache);
 * - `forwarded (again)`: the same, a second time in the round: the method's own spread;
 * - `hit`: `Cache-Control: max-age=3600`, the same body every time, answered from the cache;
 * - `miss + store`: the same header, a new body every time: key, lookup, recorder and store.
 *
 *   node dist-bench/benchmarks/cache-cost.js [--requests 3000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { CLI, cpuMs, issueBenchToken, log, startMockChild, startProxyChild, UPSTREAM_KEY } from './harness-stack.js';

const CONCURRENCY = 8;
const MODES = ['forwarded', 'forwarded (again)', 'hit', 'miss + store'] as const;
type Mode = (typeof MODES)[number];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' } },
  });
  const n = Number(values.requests);
  const rounds = Number(values.rounds);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'llm-proxy-cache-bench-'));
  const mock = await startMockChild(CLI, UPSTREAM_KEY);
  const proxy = await startProxyChild(CLI, dataDir, mock.url, { LOG_LEVEL: 'warn' });
  const pool = new Pool(proxy.url, { connections: CONCURRENCY });
  try {
    const { token } = await issueBenchToken(proxy.url, dataDir, UPSTREAM_KEY);
    let unique = 0;
    const send = async (mode: Mode, expectHit = mode === 'hit'): Promise<void> => {
      const content = mode === 'miss + store' ? `new ${unique++}` : 'same question';
      const res = await pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...(mode === 'hit' || mode === 'miss + store' ? { 'cache-control': 'max-age=3600' } : {}),
        },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${mode}: status ${res.statusCode}`);
      const status = res.headers['cache-status'];
      if (expectHit && !String(status).includes('hit')) throw new Error(`hit: Cache-Status ${status}`);
    };
    const run = async (mode: Mode, count: number): Promise<number> => {
      const before = cpuMs(proxy.child.pid) as number;
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next++ < count) await send(mode);
        }),
      );
      return (((cpuMs(proxy.child.pid) as number) - before) * 1000) / count;
    };
    // Warm-up: the entry the hits read, then JIT and connections.
    await send('hit', false);
    for (const mode of MODES) await run(mode, 1000);
    const results: Record<Mode, number[]> = { forwarded: [], 'forwarded (again)': [], hit: [], 'miss + store': [] };
    for (let r = 0; r < rounds; r++) {
      for (const mode of MODES) results[mode].push(await run(mode, n));
      log(`round ${r + 1}: ${MODES.map((m) => `${m} ${(results[m].at(-1) as number).toFixed(0)} µs`).join(', ')}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const base = median(results.forwarded);
    console.log('| mode | CPU µs per request (median) | vs forwarded |');
    console.log('|---|---:|---:|');
    for (const mode of MODES) {
      const m = median(results[mode]);
      console.log(`| ${mode} | ${m.toFixed(0)} | ${(m / base).toFixed(2)} |`);
    }
  } finally {
    await pool.close();
    await proxy.child.stop();
    await mock.child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
