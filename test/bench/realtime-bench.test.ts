import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run bench:realtime` end to end, small: it starts the mock, the bare relay and the proxy,
 * and every target must have answered every echo for its figures to mean anything.
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-realtime-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench:realtime', () => {
  it('times echoes direct, through the bare relay and through the proxy, and reports the p99 added', () => {
    const run = spawnSync(
      process.execPath,
      [
        path.resolve('dist-bench/benchmarks/realtime-frames.js'),
        '--sessions',
        '4',
        '--frames',
        '3',
        '--rounds',
        '2',
        '--interval-ms',
        '5',
        '--out',
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr + run.stdout).toBe(0);
    const r = JSON.parse(readFileSync(path.join(out, 'realtime.json'), 'utf8'));
    expect(r.perRound).toHaveLength(2);
    for (const t of ['direct', 'floor', 'proxy']) {
      expect(r[t].p50).toBeGreaterThan(0);
      expect(r[t].p99).toBeGreaterThanOrEqual(r[t].p50);
    }
    const median = [...r.perRound.map((p: { proxy: number; direct: number }) => p.proxy - p.direct)].sort(
      (a, b) => a - b,
    )[0];
    expect(r.addedP99).toBeCloseTo(median, 9);
    expect(readFileSync(path.join(out, 'realtime.md'), 'utf8')).toContain('bare `ws` relay');
  });
});
