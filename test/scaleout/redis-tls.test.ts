import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { chat, eventually, health, issue, metrics, ready } from '../helpers/scaleout.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeCertificates, redisServerAvailable, tlsClientArgs, tlsServerArgs } from './redis-cluster-server.js';
import { freePort, RedisProcess } from './redis-server.js';

const run = promisify(execFile);

/**
 * Limits kept in a Redis reached over TLS (rediss://): a redis-server with only a TLS port, which
 * requires a client certificate (Redis's default, tls-auth-clients yes) and a password.
 */
describe('Redis over TLS (rediss://)', () => {
  let dir: string | undefined;
  let redis: RedisProcess | undefined;
  let mock: MockUpstream;
  let url: string;
  let port: number;
  let password: string;
  const servers: TestServer[] = [];
  const file = (name: string) => path.join(dir as string, name);
  const start = async (env: Record<string, string>) => {
    const s = await startTestServer({ OPENAI_API_URL: mock.url, MAINTENANCE_INTERVAL_MS: '0', ...env });
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    if (!(await redisServerAvailable())) return;
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-redis-tls-'));
    await makeCertificates(dir);
    password = randomBytes(16).toString('hex');
    registerSecret(password);
    port = await freePort();
    redis = await RedisProcess.start(
      ['--port', '0', '--tls-port', String(port), '--requirepass', password, ...tlsServerArgs(dir)],
      dir,
    );
    url = `rediss://:${password}@127.0.0.1:${port}`;
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await mock?.close();
    await redis?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('limits and the change feed work over rediss:// with a private CA and a client certificate', async (ctx) => {
    if (!redis) return ctx.skip();
    const s = await start({
      REDIS_URL: url,
      REDIS_TLS_CA_FILE: file('ca.crt'),
      REDIS_TLS_CERT_FILE: file('client.crt'),
      REDIS_TLS_KEY_FILE: file('client.key'),
    });
    expect((await health(s)).limiter).toEqual({ backend: 'redis', state: 'ok', mode: 'closed' });
    const t = await issue(s, { max_requests: 3 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await chat(s, t.token));
    expect(answers).toEqual([
      { status: 200 },
      { status: 200 },
      { status: 200 },
      { status: 429, code: 'request_limit_reached' },
    ]);
    // The count is in that Redis (read over TLS by redis-cli, with the same certificates).
    const { stdout } = await run('redis-cli', [
      ...tlsClientArgs(dir as string),
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-a',
      password,
      '--no-auth-warning',
      '--scan',
      '--pattern',
      `llmp:v3:*:token:${t.id}`,
    ]);
    expect(stdout.trim()).not.toBe('');
    // The change feed's subscriber is connected over TLS too.
    await eventually('the change feed listens on Redis', async () => (await health(s)).changes?.state === 'listening');
    expect(s.logs()).not.toContain(password);
  });

  it.for<[string, Record<string, string>]>([
    ['a CA that did not sign the server certificate', { REDIS_TLS_CA_FILE: 'other-ca.crt' }],
    ["Node's public CAs (no REDIS_TLS_CA_FILE): verification is never skipped", {}],
  ])('%s: the failure mode applies, the log says why, the password shows nowhere', async ([, files], ctx) => {
    if (!redis) return ctx.skip();
    const s = await start({
      REDIS_URL: url,
      REDIS_FAILURE_MODE: 'closed',
      REDIS_TLS_CERT_FILE: file('client.crt'),
      REDIS_TLS_KEY_FILE: file('client.key'),
      ...Object.fromEntries(Object.entries(files).map(([k, v]) => [k, file(v)])),
    });
    const limited = await issue(s, { max_requests: 100 });
    const unlimited = await issue(s, {});
    expect(await chat(s, limited.token)).toEqual({ status: 503, code: 'limiter_unavailable', retryAfter: '1' });
    expect(await chat(s, unlimited.token)).toEqual({ status: 200 });
    expect((await health(s)).limiter).toEqual({ backend: 'redis', state: 'failing', mode: 'closed' });
    expect(await ready(s)).toBe(503);

    // The outage's one warning names the certificate problem, and where (without the password).
    const down = s
      .logs()
      .split('\n')
      .filter((l) => l.includes('Redis cannot answer'))
      .map((l) => JSON.parse(l) as { err: string; redis: string });
    expect(down).toHaveLength(1);
    expect(down[0]?.err).toMatch(/certificate/);
    expect(down[0]?.redis).toContain('127.0.0.1');
    for (const text of [s.logs(), JSON.stringify(await health(s)), await metrics(s)]) {
      expect(text).not.toContain(password);
    }
  });
});
