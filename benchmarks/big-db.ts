#!/usr/bin/env node
/**
 * `npm run bench:big-db`: does a large database change the hot path? Starts the mock upstream and
 * two proxies that share one token: one on a fresh database, one on a copy seeded with many
 * tokens and usage records (defaults: 100,000 and 10,000,000). Then runs non-streamed chat
 * through the fresh proxy and through the big one, alternating, at c=1 and c=32,
 * and writes bench/results/big-db.{json,md}.
 *
 *   node dist-bench/benchmarks/big-db.js [--tokens 100000] [--records 10000000] [--duration 8s] [--out dir]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import type { BenchReport } from '../src/bench/result.js';
import { uuidv7 } from '../src/crypto/ids.js';
import {
  BENCH,
  CLI,
  issueBenchToken,
  jsonCall,
  log,
  ROOT,
  startMockChild,
  startProxyChild,
  UPSTREAM_KEY,
  writeReport,
} from './harness-stack.js';

/** Adds `tokens` tokens and `records` usage records (spread over 90 days) to a migrated database. */
export function seed(file: string, projectId: string, tokens: number, records: number): void {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const now = Date.now();
  const addToken = db.prepare(
    `insert into tokens (id, project_id, token_hash, token_hint, name, is_active, expires_at, revoked_at, max_requests,
       request_count, last_used_at, created_at, updated_at, budget_period)
     values (?, ?, ?, 'sk-llmp-…seed', null, 1, null, null, null, 0, null, ?, ?, 'total')`,
  );
  const ids: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < tokens; i++) {
      const id = uuidv7();
      ids.push(id);
      addToken.run(id, projectId, randomBytes(32).toString('hex'), now, now);
    }
  })();
  const addUsage = db.prepare(
    `insert into usage_records (id, request_id, token_id, project_id, method, path, model, status, is_stream,
       prompt_tokens, completion_tokens, total_tokens, duration_ms, bytes_in, bytes_out, cost_nano_usd,
       usage_status, created_at)
     values (?, ?, ?, ?, 'POST', '/v1/chat/completions', 'gpt-4o-mini', 200, 0, 20, 10, 30, 12.5, 300, 900, 9,
       'reported', ?)`,
  );
  const span = 90 * 86_400_000;
  const chunk = 100_000;
  for (let done = 0; done < records; done += chunk) {
    db.transaction(() => {
      for (let i = done; i < Math.min(records, done + chunk); i++) {
        const at = now - span + Math.floor((i / records) * span);
        addUsage.run(uuidv7(at), `seed-${i}`, ids[i % ids.length] as string, projectId, at);
      }
    })();
    if ((done / chunk) % 10 === 9) log(`  seeded ${done + chunk} of ${records} usage records`);
  }
  db.close();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tokens: { type: 'string', default: '100000' },
      records: { type: 'string', default: '10000000' },
      duration: { type: 'string', default: '8s' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    },
  });
  const tokens = Number(values.tokens);
  const records = Number(values.records);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-bigdb-'));
  const children: Array<{ stop(): Promise<void> }> = [];
  try {
    const mock = await startMockChild(CLI, UPSTREAM_KEY);
    children.push(mock.child);
    const mockUrl = mock.url;

    // A fresh proxy creates the project and the shared token; its data directory is then copied and seeded.
    const fresh = path.join(dir, 'fresh');
    const big = path.join(dir, 'big');
    const start = async (dataDir: string) => {
      const p = await startProxyChild(CLI, dataDir, mockUrl);
      children.push(p.child);
      return p;
    };
    const first = await start(fresh);
    const issued = await issueBenchToken(first.url, fresh, UPSTREAM_KEY);
    await first.child.stop();
    mkdirSync(big);
    cpSync(fresh, big, { recursive: true });
    log(`seeding ${tokens} tokens and ${records} usage records…`);
    const t0 = Date.now();
    seed(path.join(big, 'llm-proxy.db'), issued.projectId, tokens, records);
    const dbBytes = statSync(path.join(big, 'llm-proxy.db')).size;
    log(`seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s, database ${(dbBytes / 2 ** 30).toFixed(2)} GiB`);

    const small = await start(fresh);
    const large = await start(big);
    const probe = await jsonCall<unknown>('GET', `${large.url}/v1/models`, issued.token);
    if (probe.status !== 200) throw new Error(`the seeded proxy refused the token: ${JSON.stringify(probe.body)}`);
    const cells: Array<{ concurrency: number; report: BenchReport }> = [];
    for (const c of [1, 32]) {
      // The fresh proxy is the baseline and the big one the subject: the difference is the store's effect.
      const pair = [
        '--direct',
        small.url,
        '--direct-token',
        issued.token,
        '--proxy',
        large.url,
        '--token',
        issued.token,
      ];
      const load = ['-e', 'chat', '-c', String(c), '-d', String(values.duration), '--rounds', '5', '--warmup', '1s'];
      const args = [BENCH, ...pair, ...load, '--json', '-', '--quiet'];
      const out = execFileSync(process.execPath, args, { env: {}, maxBuffer: 64 << 20 }).toString();
      cells.push({ concurrency: c, report: JSON.parse(out) as BenchReport });
    }
    const rows = cells.map(({ concurrency, report }) => {
      const run = (label: string) => report.runs.find((r) => r.label === label);
      const pick = (label: string) => {
        const r = run(label);
        return r?.latency_ms
          ? { rps: Math.round(r.throughput.rps), p50: r.latency_ms.p50, p99: r.latency_ms.p99 }
          : null;
      };
      return { concurrency, fresh: pick('direct'), big: pick('proxy') };
    });
    const md = [
      '# Big database: hot path with an empty versus a large store',
      '',
      `${new Date().toISOString()} · ${tokens.toLocaleString('en')} extra tokens, ${records.toLocaleString('en')} usage records, database ${(dbBytes / 2 ** 30).toFixed(2)} GiB · reproduce: \`npm run bench:big-db\``,
      '',
      'Non-streamed chat through the proxy, alternating rounds between the two proxies (same token, same upstream).',
      '',
      '| c | fresh req/s | big-db req/s | ratio | fresh p50 / p99 ms | big-db p50 / p99 ms |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(({ concurrency: c, fresh: f, big: b }) =>
        f && b
          ? `| ${c} | ${f.rps} | ${b.rps} | ${(b.rps / f.rps).toFixed(2)}× | ${f.p50.toFixed(3)} / ${f.p99.toFixed(3)} | ${b.p50.toFixed(3)} / ${b.p99.toFixed(3)} |`
          : `| ${c} | – | – | – | – | – |`,
      ),
      '',
    ].join('\n');
    writeReport(String(values.out), 'big-db', md, { tokens, records, db_bytes: dbBytes, rows });
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    log(`big-db benchmark failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
