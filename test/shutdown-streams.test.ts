import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../src/mock-upstream/index.js';
import { spawnServe } from './helpers/cli.js';

describe('graceful shutdown with streams in flight (real process)', () => {
  let mock: MockUpstream;
  const dataDirs: string[] = [];
  beforeAll(async () => {
    mock = await startMockUpstream({ apiKey: 'sk-up' });
  });
  afterAll(async () => {
    await mock.close();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  });

  async function startWithToken(env: Record<string, string> = {}) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-drain-'));
    dataDirs.push(dataDir);
    const srv = await spawnServe({
      DATA_DIR: dataDir,
      OPENAI_API_URL: mock.url,
      MANAGEMENT_TOKEN: 'drain-test-management-token',
      ...env,
    });
    const h = { authorization: 'Bearer drain-test-management-token', 'content-type': 'application/json' };
    const p = (await (
      await fetch(`${srv.url}/manage/projects`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ name: 'd', api_key: 'sk-up' }),
      })
    ).json()) as { id: string };
    const t = (await (
      await fetch(`${srv.url}/manage/tokens`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ project_id: p.id }),
      })
    ).json()) as { token: string };
    return { srv, token: t.token };
  }

  const streamRequest = (url: string, token: string, chunks: number, delayMs: number) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-mock-chunks': String(chunks),
        'x-mock-chunk-delay-ms': String(delayMs),
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('lets a stream that is in flight on SIGTERM finish, then exits 0', async () => {
    const { srv, token } = await startWithToken();
    const res = await streamRequest(srv.url, token, 20, 40);
    expect(res.status).toBe(200);
    srv.child.kill('SIGTERM');
    const body = await res.text();
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(body.match(/chat\.completion\.chunk/g)?.length).toBe(22); // role + 20 content + finish
    expect(await srv.exited).toBe(0);
  });

  it('cuts streams still running at SHUTDOWN_TIMEOUT_MS and still exits', async () => {
    const { srv, token } = await startWithToken({ SHUTDOWN_TIMEOUT_MS: '300' });
    const completed = mock.stats().completedStreams;
    const res = await streamRequest(srv.url, token, 100, 50); // ~5 s of stream
    srv.child.kill('SIGTERM');
    const body = await res.text().catch(() => '');
    const code = await srv.exited;
    expect(code, srv.stdout().slice(-1500)).toBe(0);
    // Cut by the deadline, not finished: checked on what happened, not on how long it took (on a
    // busy machine the process may need seconds to exit after the cut).
    expect(srv.stdout()).toContain('shutdown deadline reached: closing open connections');
    expect(body).not.toContain('[DONE]');
    expect(mock.stats().completedStreams).toBe(completed);
  });
});
