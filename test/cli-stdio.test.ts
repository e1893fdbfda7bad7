import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  s = await startTestServer();
  env = { LLM_PROXY_URL: s.url, MANAGEMENT_TOKEN: s.managementToken };
});
afterAll(async () => s.stop());

/**
 * Runs the CLI with its stdout read by nobody: the reading end of the pipe is closed before the
 * command has written anything, as `| head -1` does once it has its line. Every write to stdout then
 * fails with EPIPE, whatever the machine's speed (a command whose output outgrows the pipe's buffer
 * would hit it even if it wrote first).
 */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('CLI output into a reader that stops early (| head)', () => {
  it('openapi (375 kB of JSON) exits 0 quietly, without a stack trace', async () => {
    expect(await runWithClosedStdout(['openapi'])).toEqual({ code: 0, stderr: '' });
  });

  it('project create exits 0 quietly; the project was created', async () => {
    expect(await runWithClosedStdout(['project', 'create', '--name', 'piped', '--api-key', 'sk-piped-0000'])).toEqual({
      code: 0,
      stderr: '',
    });
    const list = await s.manage('GET', '/projects');
    expect(list.body.data.map((p: { name: string }) => p.name)).toContain('piped');
  });
});
