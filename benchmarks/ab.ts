/**
 * `npm run bench:ab -- <label>=<path/to/dist/cli/main.js> <label>=<…> [--rounds 8] [--duration 3s]
 * [--connections 32]`: CPU per request of two (or more) llm-proxy builds, alone, in paired wrk
 * rounds (order alternating), against one mock upstream. bench:floor measures five targets per
 * round; this measures only the builds, for a change whose cost is a few percent.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Child, CLI, cpuMs, issueBenchToken, startMockChild, startProxyChild } from './harness-stack.js';
import { findWrk } from './wrk.js';

const KEY = 'sk-bench-ab-upstream-key-0123456789';

interface Build {
  label: string;
  cli: string;
  child?: Child;
  url?: string;
  token?: string;
  script?: string;
  cpuPerRequest: number[];
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined) throw new Error(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rounds = Number(option(args, '--rounds', '8'));
  const duration = option(args, '--duration', '3s');
  const connections = option(args, '--connections', '32');
  const builds: Build[] = args.map((a) => {
    const [label, cli] = a.split('=');
    if (!label || !cli) throw new Error(`expected <label>=<path to dist/cli/main.js>, not "${a}"`);
    return { label, cli: path.resolve(cli), cpuPerRequest: [] };
  });
  if (builds.length < 2) throw new Error('name at least two builds: <label>=<path to dist/cli/main.js>');
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk is not on PATH (apt-get install wrk)');
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-ab-'));
  // One script per build, holding its token: readable by this user only (the folder is removed at the end).
  const scriptFor = (b: Build) => {
    const file = path.join(dir, `${b.label}.lua`);
    writeFileSync(
      file,
      `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n` +
        `wrk.headers["Authorization"] = "Bearer ${b.token}"\nwrk.path = "/v1/chat/completions"\n` +
        `wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}]}'\n`,
      { mode: 0o600 },
    );
    return file;
  };
  const mock = await startMockChild(CLI, KEY);
  try {
    for (const b of builds) {
      const data = path.join(dir, b.label);
      const p = await startProxyChild(b.cli, data, mock.url);
      b.child = p.child;
      b.url = p.url;
      b.token = (await issueBenchToken(p.url, data, KEY)).token;
      b.script = scriptFor(b);
    }
    const run = (b: Build, d: string) => {
      const out = execFileSync(wrk, [
        '-t1',
        `-c${connections}`,
        `-d${d}`,
        '-s',
        b.script as string,
        b.url as string,
      ]).toString();
      return Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    };
    for (const b of builds) run(b, '6s'); // JIT warm-up
    for (let r = 0; r < rounds; r++) {
      for (const b of r % 2 ? [...builds].reverse() : builds) {
        const pid = (b.child as Child).pid;
        const before = cpuMs(pid) as number;
        const n = run(b, duration);
        b.cpuPerRequest.push((((cpuMs(pid) as number) - before) * 1000) / Math.max(n, 1));
      }
    }
    const base = builds[0] as Build;
    process.stdout.write(`CPU per request, µs (${rounds} rounds of ${duration}, wrk -t1 -c${connections})\n`);
    for (const b of builds) {
      const ratios = b.cpuPerRequest.map((v, i) => v / (base.cpuPerRequest[i] as number));
      process.stdout.write(
        `${b.label.padEnd(12)} ${median(b.cpuPerRequest).toFixed(1).padStart(7)}  ` +
          `${b === base ? '(base)' : `${median(ratios).toFixed(3)}× ${base.label}`}  ` +
          `[${b.cpuPerRequest.map((v) => v.toFixed(0)).join(' ')}]\n`,
      );
    }
  } finally {
    for (const b of builds) await b.child?.stop();
    await mock.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ab benchmark failed: ${(err as Error).message}\n`);
  process.exit(1);
});
