import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Cell, CHAT_PATH, cellTitle } from './floor-cells.js';
import type { Target } from './floor-targets.js';
import type { LoadGenerator, Measurement } from './load-generator.js';

/** wrk's absolute path when it is on PATH (the shell resolves it), else null. */
export function findWrk(): string | null {
  const res = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  return res.status === 0 && res.stdout.trim() ? res.stdout.trim() : null;
}

/**
 * wrk (C, one thread: `wrk -t1`) as the load generator. It uses a fraction of the CPU a Node
 * generator does, so on a 2-core machine more of a core is left to the target and the ratios
 * between targets are not compressed. Each (cell, target) gets a Lua script in `dir` that sets the
 * request and prints wrk's summary as one JSON line.
 */
export function wrkGenerator(wrk: string, dir: string): LoadGenerator {
  // `wrk -v` prints "wrk <version> [epoll] Copyright …" and exits 1.
  const version = /^wrk (\S+)/.exec(spawnSync(wrk, ['-v'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '';
  return {
    name: `wrk${version ? ` ${version}` : ''}, one thread (\`wrk -t1\`)`,
    run(target, cell, seconds) {
      const script = path.join(dir, `${cell.name}.${target.key}.lua`);
      // The script holds a token: readable by this user only (the folder is removed at the end).
      writeFileSync(script, luaScript(target, cell), { mode: 0o600 });
      const args = ['-t1', `-c${cell.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script];
      return runWrk(wrk, [...args, `${target.url}${CHAT_PATH}`], seconds);
    },
  };
}

/** The prefix of the line a benchmark's Lua script prints its figures on (see wrkResult). */
export const RESULT = 'wrk-result ';

// `wrk.headers[ [[name]] ]` keeps its spaces: `t[[[name]]]` would read as a call with a long string.
function luaScript(target: Target, cell: Cell): string {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${target.token}`, ...cell.headers };
  return `-- ${cellTitle(cell)} against ${target.title} (written by benchmarks/wrk.ts)
wrk.method = "POST"
wrk.body = ${luaString(cell.body)}
${Object.entries(headers)
  .map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`)
  .join('\n')}

-- errors.status counts responses with a status above 399.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${RESULT}{"requests":%.0f,"duration_us":%.0f,"status":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"timeout":%.0f,"p50_us":%.1f}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout, latency:percentile(50)))
end
`;
}

/** A Lua long string: no escapes to get wrong, whatever the text holds. */
function luaString(text: string): string {
  let eq = '';
  while (text.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${text}]${eq}]`;
}

interface WrkResult {
  requests: number;
  duration_us: number;
  status: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  p50_us: number;
}

function runWrk(wrk: string, args: string[], seconds: number): Promise<Measurement> {
  return wrkResult<WrkResult>(wrk, args, seconds).then((r) => {
    const errors = r.status + r.connect + r.read + r.write + r.timeout;
    return {
      requests: r.requests,
      rps: r.duration_us > 0 ? r.requests / (r.duration_us / 1e6) : 0,
      p50Ms: r.p50_us / 1000,
      errors,
      errorDetail: `non-2xx/3xx ${r.status}, connect ${r.connect}, read ${r.read}, write ${r.write}, timeout ${r.timeout}`,
    };
  });
}

/**
 * Runs wrk with `args` (a Lua script among them that prints one line `RESULT{json}` at its end)
 * and resolves with that JSON; rejects when wrk fails or prints none.
 */
export function wrkResult<T>(wrk: string, args: string[], seconds: number): Promise<T> {
  return new Promise((resolve, reject) => {
    // A clean environment: no host setting leaks into a measurement.
    const child = spawn(wrk, args, { env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    // wrk stops itself after `seconds`; this only guards against a hung run.
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      const line = out.split('\n').find((l) => l.startsWith(RESULT));
      if (code !== 0 || !line) return reject(new Error(`wrk ${args.join(' ')} exited ${code}:\n${out.trim()}`));
      resolve(JSON.parse(line.slice(RESULT.length)) as T);
    });
  });
}
