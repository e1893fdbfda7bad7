import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/**
 * The Node.js example of docs/getting-started.md, as written, streams a reply through the proxy
 * with the official `openai` package: the file a reader saves as hello.mjs, run with `node`, the
 * token in LLM_PROXY_TOKEN. Only the server's address and where `openai` is found differ (the
 * script runs from a temporary folder, where the import names this repository's copy).
 */

function snippet(): string {
  const doc = readFileSync('docs/getting-started.md', 'utf8');
  const m = /\*\*Node\.js\*\*[^\n]*\n\n```js\n([\s\S]*?)```/.exec(doc);
  if (!m?.[1]) throw new Error('docs/getting-started.md has no Node.js example');
  return m[1];
}

function run(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the Node.js example of docs/getting-started.md', () => {
  let st: ProxyStack;
  let dir: string;
  beforeAll(async () => {
    st = await startProxyStack();
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-getting-started-'));
  });
  afterAll(async () => {
    await st?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('streams the reply through the proxy, and the proxy records it', async () => {
    const code = snippet()
      .replace("from 'openai'", `from '${import.meta.resolve('openai')}'`)
      .replace('http://localhost:8080/v1', `${st.url}/v1`);
    expect(code).toContain(`${st.url}/v1`);
    const file = path.join(dir, 'hello.mjs');
    writeFileSync(file, code);

    const r = await run(file, { LLM_PROXY_TOKEN: st.token });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'This is a deterministic reply from the llm-proxy mock upstream, one word per chunk so tests\n',
    );
    const records = await st.waitUsage(st.tokenId, 1);
    expect(records.map((u) => [u.path, u.status, u.is_stream])).toEqual([['/v1/chat/completions', 200, 1]]);
  }, 60_000);
});
