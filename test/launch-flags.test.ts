import { execFile } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROXY_NODE_FLAGS } from '../src/bench/harness-stack.js';

const CLI = path.resolve('dist/cli/main.js');

/** `npm start`, the `llm-proxy` command and the benchmarks run the proxy with the same Node flags. */
describe('Node flags of the proxy process', () => {
  it('npm start passes them', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${PROXY_NODE_FLAGS.join(' ')} dist/cli/main.js serve`);
  });

  it('the llm-proxy command carries them in its #! line, and that line runs', async () => {
    const first = readFileSync(CLI, 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${PROXY_NODE_FLAGS.join(' ')}`);
    // npm marks a package's bin executable on install; the build output is marked here.
    chmodSync(CLI, 0o755);
    const { stdout } = await promisify(execFile)(CLI, ['--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
