import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnServe } from './helpers/cli.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'llmp-start-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('start-up and shutdown (real process)', () => {
  it('first start creates the database, key file and management token (0600); a second start reuses them', async () => {
    const dataDir = freshDir();
    const first = await spawnServe({ DATA_DIR: dataDir });
    const token = readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim();
    const key = readFileSync(path.join(dataDir, 'encryption.key'), 'utf8').trim();
    expect(token).toMatch(/^mgmt-[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    for (const f of ['management-token', 'encryption.key']) {
      expect(statSync(path.join(dataDir, f)).mode & 0o777, f).toBe(0o600);
    }
    expect(statSync(path.join(dataDir, 'llm-proxy.db')).isFile()).toBe(true);
    expect(first.stderr()).toContain(token); // the banner shows a freshly generated token once
    expect(first.stderr()).toContain(`${first.url}/manage`);
    expect(first.stdout()).toContain('generated an encryption key file');

    // Data written in the first run is readable (and decryptable) in the second.
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${first.url}/manage/projects`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'persisted', api_key: 'sk-persist-1234' }),
    });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await spawnServe({ DATA_DIR: dataDir });
    expect(readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim()).toBe(token);
    expect(readFileSync(path.join(dataDir, 'encryption.key'), 'utf8').trim()).toBe(key);
    expect(second.stderr()).not.toContain(token);
    expect(second.stderr()).toContain('management-token');
    const list = await fetch(`${second.url}/manage/projects`, { headers });
    expect(((await list.json()) as any).data.map((p: { name: string }) => p.name)).toEqual(['persisted']);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('answers health, liveness and readiness', async () => {
    const srv = await spawnServe({ DATA_DIR: freshDir() });
    try {
      expect(await (await fetch(`${srv.url}/health`)).json()).toMatchObject({
        status: 'ok',
        version: expect.any(String),
      });
      expect((await fetch(`${srv.url}/live`)).status).toBe(200);
      const ready = await fetch(`${srv.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', usage_writer: 'ok', usage_journal: 'ok' },
        usage_pending: 0,
      });
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });

  it('finishes an in-flight request on SIGTERM, refuses new connections, and exits 0', async () => {
    const dataDir = freshDir();
    const srv = await spawnServe({ DATA_DIR: dataDir, MANAGEMENT_TOKEN: 'a-management-token-for-tests' });
    const headers = { authorization: 'Bearer a-management-token-for-tests' };
    // Hold a request open: a slow upload keeps the request in flight while the signal arrives.
    const { request } = await import('node:http');
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(`${srv.url}/manage/projects`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"name":"late",');
      setTimeout(() => {
        srv.child.kill('SIGTERM');
        setTimeout(() => req.end('"api_key":"sk-1"}'), 300);
      }, 200);
    });
    expect(await inFlight).toBe(201);
    expect(await srv.exited).toBe(0);
    await expect(fetch(`${srv.url}/health`)).rejects.toThrow();
    expect(srv.stdout()).toContain('llm-proxy stopped');
  });

  it('stops with a message naming the variable when configuration is invalid', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ LISTEN_ADDR: 'not-an-address' }, 'LISTEN_ADDR'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ MANAGEMENT_TOKEN: 'short' }, 'MANAGEMENT_TOKEN'],
      [{ ENCRYPTION_KEY: 'dG9vLXNob3J0' }, 'ENCRYPTION_KEY'],
      [{ REQUIRE_ENCRYPTION_KEY: 'true' }, 'ENCRYPTION_KEY'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ AUTO_MIGRATE: 'maybe' }, 'AUTO_MIGRATE'],
    ];
    for (const [env, name] of cases) {
      const res = await runCli(['serve'], { DATA_DIR: freshDir(), LISTEN_ADDR: '127.0.0.1:0', ...env });
      expect(res.code, JSON.stringify(env)).toBe(1);
      expect(res.stderr, JSON.stringify(env)).toContain(name);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('with AUTO_MIGRATE=false refuses to start on an unmigrated database until `migrate` runs', async () => {
    const dataDir = freshDir();
    const env = { DATA_DIR: dataDir, AUTO_MIGRATE: 'false', LISTEN_ADDR: '127.0.0.1:0' };
    const refused = await runCli(['serve'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('llm-proxy migrate');
    const migrated = await runCli(['migrate'], env);
    expect(migrated).toMatchObject({
      code: 0,
      stdout: 'applied: 0001-initial, 0002-usage-records, 0003-limits-and-rollups\n',
    });
    expect((await runCli(['migrate'], env)).stdout).toBe('database is up to date\n');
    const srv = await spawnServe(env);
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toBe(0);
  });
});
