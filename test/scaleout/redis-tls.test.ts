import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  makeCertificates,
  RedisProcess,
  redisServerAvailable,
  tlsClientArgs,
  tlsServerArgs,
} from './redis-cluster-server.js';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

/** Only a hang reaches this. */
const SAFETY_NET_MS = 60_000;

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SAFETY_NET_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${SAFETY_NET_MS} ms: ${what}`);
    await sleep(20);
  }
}

async function chat(server: TestServer, token: string): Promise<{ status: number; code?: string | null }> {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
  try {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return { status: 200 };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) return { status: err.status, code: err.code };
    throw err;
  }
}

const health = async (s: TestServer) => (await fetch(`${s.url}/health`)).json() as Promise<any>;
const metrics = async (s: TestServer) =>
  (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.managementToken}` } })).text();

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
  const issue = async (s: TestServer, limits: Record<string, unknown>) => {
    const p = await s.manage('POST', '/projects', {
      name: `p-${randomBytes(4).toString('hex')}`,
      api_key: UPSTREAM_KEY,
    });
    expect(p.status).toBe(201);
    const t = await s.manage('POST', '/tokens', { project_id: p.body.id, ...limits });
    expect(t.status).toBe(201);
    return t.body as { id: string; token: string };
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
      `llmp:v2:*:token:${t.id}`,
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
    expect(await chat(s, limited.token)).toEqual({ status: 503, code: 'limiter_unavailable' });
    expect(await chat(s, unlimited.token)).toEqual({ status: 200 });
    expect((await health(s)).limiter).toEqual({ backend: 'redis', state: 'failing', mode: 'closed' });
    expect((await fetch(`${s.url}/ready`)).status).toBe(503);

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
