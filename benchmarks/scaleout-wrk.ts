import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHAT_PATH } from './floor-cells.js';
import { RESULT, wrkResult } from './wrk.js';

/** What one `wrk -t1` run measured. */
export interface WrkRun {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

// A fixed prompt: wrk sends one body for every request.
const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'measure the instances behind the balancer with this short fixed prompt' }],
});

/**
 * Writes the Lua script for non-streamed chat with `token` (readable by this user only: it holds
 * the token; the caller's folder is removed at the end) and returns its path. `pauseMs`: each
 * connection waits that long after a response before its next request.
 */
export function chatScript(dir: string, name: string, token: string, pauseMs = 0): string {
  const file = path.join(dir, `${name}.lua`);
  writeFileSync(
    file,
    `-- non-streamed chat (written by benchmarks/scaleout-wrk.ts)
wrk.method = "POST"
wrk.body = [==[${BODY}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${token}"
${pauseMs > 0 ? `delay = function() return ${pauseMs} end\n` : ''}
-- errors.status counts responses with a status above 399.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${RESULT}{"requests":%.0f,"duration_us":%.0f,"errors":%.0f,"p50_us":%.1f,"p99_us":%.1f}\\n',
    summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`,
    { mode: 0o600 },
  );
  return file;
}

/**
 * `wrk -t1 -c<connections> -d<seconds>s` against `url`. A run with any error (a status above 399,
 * a socket error, a timeout) measured something other than the proxy path: it fails, loudly. A run
 * that completed no request measured nothing (a host so busy that no answer came within the
 * duration): it is run again, twice as long each time, up to 16 times the duration.
 */
export async function runWrk(
  wrk: string,
  url: string,
  script: string,
  connections: number,
  seconds: number,
): Promise<WrkRun> {
  for (let d = seconds; ; d *= 2) {
    const args = ['-t1', `-c${connections}`, `-d${d}s`, '--timeout', '10s', '-s', script, `${url}${CHAT_PATH}`];
    const r = await wrkResult<{
      requests: number;
      duration_us: number;
      errors: number;
      p50_us: number;
      p99_us: number;
    }>(wrk, args, d);
    if (r.errors === 0 && r.requests === 0 && d < seconds * 16) continue;
    if (r.errors > 0 || r.requests === 0) {
      throw new Error(`${url}: ${r.requests} requests, ${r.errors} errors (wrk ${args.join(' ')})`);
    }
    return {
      requests: r.requests,
      rps: r.requests / (r.duration_us / 1e6),
      p50Ms: r.p50_us / 1000,
      p99Ms: r.p99_us / 1000,
    };
  }
}
