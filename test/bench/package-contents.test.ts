import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The npm package ships the proxy and its CLI, `llm-proxy bench` and `mock-upstream` included, and
 * nothing of the benchmark harness (benchmarks/, built to dist-bench/). Reads what `npm pack` would
 * pack from the dist/ that `npm test` builds first.
 */
const run = promisify(execFile);

async function packedFiles(): Promise<string[]> {
  // --ignore-scripts: packing runs `prepare` (a build) otherwise, under the other tests' feet.
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  return pack?.files.map((f) => f.path) ?? [];
}

/** The harness scripts by name (harness, floor, soak…), from the folder that holds them. */
const HARNESS = readdirSync('benchmarks')
  .filter((n) => n.endsWith('.ts'))
  .map((n) => n.slice(0, -'.ts'.length));

describe('the npm package', () => {
  it('holds the CLI, the bench command and the mock upstream, and no benchmark harness file', async () => {
    expect(HARNESS).toEqual(expect.arrayContaining(['harness', 'harness-stack', 'floor', 'floor-proxy', 'soak']));
    const files = await packedFiles();
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/cli/main.js',
        'dist/cli/bench-main.js',
        'dist/bench/bench.js',
        'dist/mock-upstream/index.js',
      ]),
    );
    const harness = files.filter(
      (f) =>
        f.startsWith('benchmarks/') ||
        f.startsWith('dist-bench/') ||
        HARNESS.includes(path.basename(f).replace(/\.(js|js\.map|ts)$/, '')),
    );
    expect(harness).toEqual([]);
  });
});
