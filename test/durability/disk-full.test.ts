import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { unavailable } from '../helpers/services.js';

/**
 * A real full disk: the data directory is a small tmpfs, filled up by the test. (SQLite's
 * max_page_count would be a lighter stand-in, but it is per connection and the server's two
 * connections are out of a test's reach.) Mounting needs root, which CI has (and where a skip is a
 * failure); elsewhere the test skips and says why.
 */
function mountTmpfs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (err) {
    return unavailable(`cannot mount a tmpfs (${(err as Error).message.split('\n')[0]}): skipping disk-full tests`);
  }
}

/** Writes a file until the filesystem refuses (ENOSPC). */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('the SQLite disk fills up', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'llmp-full-'));
  const dataDir = path.join(base, 'data');
  const filler = path.join(dataDir, 'filler');
  let mounted = false;
  let s: TestServer;
  let mock: MockUpstream;

  beforeAll(async () => {
    execFileSync('mkdir', ['-p', dataDir]);
    mounted = mountTmpfs(dataDir);
    if (!mounted) return;
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    s = await startTestServer({ DATA_DIR: dataDir, OPENAI_API_URL: mock.url, USAGE_FLUSH_INTERVAL_MS: '50' });
  });
  afterAll(async () => {
    if (mounted) {
      rmSync(filler, { force: true });
      await s?.stop();
      await mock?.close();
      execFileSync('umount', [dataDir]);
    }
    rmSync(base, { recursive: true, force: true });
  });

  it('answers 503 store_unavailable with a clear message, is not ready while usage cannot be written, and recovers', async (ctx) => {
    if (!mounted) return ctx.skip();
    const p = await s.manage('POST', '/projects', { name: 'full', api_key: UPSTREAM_KEY });
    const t = await s.manage('POST', '/tokens', { project_id: p.body.id });
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: t.body.token, maxRetries: 0 });
    await client.models.list(); // warms the token cache
    const usage = s.server.runtime.usage;
    await until(() => usage.pending === 0 && usage.written === 1);

    fill(filler);
    const created = await s.manage('POST', '/projects', { name: 'no-room', api_key: UPSTREAM_KEY });
    expect(created.status).toBe(503);
    expect(created.body.error).toMatchObject({ code: 'store_unavailable', type: 'server_error' });
    expect(created.body.error.message).toMatch(/no disk space left/);

    // The proxy keeps serving; its usage record waits in memory (and in the journal).
    const chat = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(chat.usage?.total_tokens).toBeGreaterThan(0);
    await until(() => usage.health().failing !== undefined);
    const ready = await fetch(`${s.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'not_ready',
      checks: { database: 'ok', usage_writer: 'failing: disk full (SQLITE_FULL)' },
      usage_pending: 1,
    });
    // /health still answers 200, with the detail of what is failing.
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'degraded',
      store: { status: 'ok' },
      usage: { pending: 1, failing: 'disk full (SQLITE_FULL)', journal: 'ok' },
    });

    rmSync(filler);
    await until(() => usage.pending === 0 && usage.health().failing === undefined);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
    expect((await s.manage('POST', '/projects', { name: 'room-again', api_key: UPSTREAM_KEY })).status).toBe(201);
    expect((await s.manage('GET', `/tokens/${t.body.id}`)).body.request_count).toBe(2);
  });
});
