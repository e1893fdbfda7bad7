import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ServeProcess, spawnCli, spawnServe } from '../helpers/cli.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { unavailable } from '../helpers/services.js';
import { freePort, OwnRedis } from './redis-server.js';

/** Only a hang reaches this. */
const SAFETY_NET_MS = 60_000;

async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SAFETY_NET_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${SAFETY_NET_MS} ms: ${what}`);
    await sleep(20);
  }
}

/** The JSON log lines a process wrote so far (the primary's and every worker's share stdout). */
function logLines(p: ServeProcess): Record<string, unknown>[] {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Each counter and histogram series of a Prometheus text, by its sample line's name and labels. */
function growingSeries(text: string): Map<string, number> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string);
  const series = new Map<string, number>();
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/gm)) {
    const name = m[1] as string;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const type = types.get(family);
    if (type === 'counter' || type === 'histogram') series.set(`${name}${m[2] ?? ''}`, Number(m[3]));
  }
  return series;
}

/** The sum of every series of `name` in a Prometheus text. */
function total(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/**
 * WORKERS=2 (node:cluster) as a user runs it: `llm-proxy serve` in its own process, a real Redis,
 * SQLite in a DATA_DIR that starts empty, the mock upstream driven by the official client.
 */
describe('WORKERS=2: several processes on one port', () => {
  const dirs: string[] = [];
  let redis: OwnRedis | undefined;
  let mock: MockUpstream;
  let proxy: ServeProcess;
  let dataDir: string;
  let managementToken: string;
  /** A connection per request, so the cluster's round robin spreads them over the workers. */
  const fresh = new Agent({ pipelining: 0, keepAliveTimeout: 1 });
  const scrapes: string[] = [];

  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'llmp-workers-'));
    dirs.push(d);
    return d;
  };
  const manage = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${proxy.url}/manage${route}`, {
      method,
      headers: { authorization: `Bearer ${managementToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const issue = async (limits: Record<string, unknown> = {}) => {
    const project = await manage('POST', '/projects', {
      name: `p-${dirs.length}-${Date.now()}`,
      api_key: UPSTREAM_KEY,
    });
    expect(project.status).toBe(201);
    const token = await manage('POST', '/tokens', { project_id: project.body.id, ...limits });
    expect(token.status).toBe(201);
    registerSecret(token.body.token);
    return token.body.token as string;
  };
  /** Usage records of a token in the SQLite database the workers share, by status and error. */
  const records = (tokenId: string) => {
    const db = new Database(path.join(dataDir, 'llm-proxy.db'), { readonly: true });
    try {
      return db.prepare('SELECT status, error FROM usage_records WHERE token_id = ?').all(tokenId) as {
        status: number;
        error: string | null;
      }[];
    } finally {
      db.close();
    }
  };
  const client = (token: string) =>
    new OpenAI({
      baseURL: `${proxy.url}/v1`,
      apiKey: token,
      maxRetries: 0,
      fetch: undiciFetch as unknown as typeof fetch,
      fetchOptions: { dispatcher: fresh } as never,
    });
  /** One chat completion: 200, or the refusal's status. */
  const chat = async (token: string): Promise<number> => {
    try {
      await client(token).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      return 200;
    } catch (err) {
      if (err instanceof OpenAI.APIError && err.status !== undefined) return err.status;
      throw err;
    }
  };
  /** A scrape of /metrics; every counter and histogram series must be at least what the previous scrape said. */
  const scrape = async (): Promise<string> => {
    const res = await undiciFetch(`${proxy.url}/metrics`, {
      headers: { authorization: `Bearer ${managementToken}` },
      dispatcher: fresh,
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const before = scrapes.at(-1);
    scrapes.push(text);
    if (before) {
      const now = growingSeries(text);
      const shrunk: string[] = [];
      for (const [key, was] of growingSeries(before)) {
        const is = now.get(key);
        // Float sums of the same numbers in another order may differ in the last bits.
        if (is === undefined || is < was - Math.abs(was) * 1e-9) shrunk.push(`${key}: ${was} -> ${is}`);
      }
      expect(shrunk, `scrape ${scrapes.length}`).toEqual([]);
    }
    return text;
  };
  const servingPids = () =>
    logLines(proxy)
      .filter((l) => l.worker === 'primary' && l.msg === 'worker serving')
      .map((l) => ({ slot: l.slot as number, pid: l.pid as number }));

  beforeAll(async () => {
    if (!existsSync('/usr/bin/redis-server') && !unavailable('redis-server is not installed')) return;
    redis = new OwnRedis(await freePort());
    await redis.start();
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    dataDir = path.join(tempDir(), 'data');
    // No MANAGEMENT_TOKEN or ENCRYPTION_KEY: the first start generates both (once, in the primary).
    proxy = await spawnServe({
      WORKERS: '2',
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '5000',
      DATA_DIR: dataDir,
      OPENAI_API_URL: mock.url,
      AUDIT_REFUSED_REQUESTS: 'false',
    });
    await eventually('both workers serve', () => servingPids().length === 2);
    // Not registered as a secret: the banner shows a generated token once, on purpose.
    managementToken = readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim();
  }, 120_000);

  afterAll(async () => {
    if (proxy && proxy.child.exitCode === null) {
      proxy.child.kill('SIGKILL');
      await proxy.exited;
    }
    // Workers end when their primary does; wait for them before deleting the folder they write in.
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (proxy) await eventually('every worker has exited', () => !servingPids().some((p) => alive(p.pid)));
    await mock?.close();
    await redis?.kill();
    await fresh.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses WORKERS=2 without REDIS_URL, saying why', async ({ skip }) => {
    if (!redis) skip();
    const r = await spawnCli(['serve'], { WORKERS: '2', LISTEN_ADDR: '127.0.0.1:0', DATA_DIR: tempDir() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('WORKERS: 2 worker processes need REDIS_URL: each would keep its own request caps');
  });

  it('a worker that cannot start fails the start: its error, then which worker, exit code 1', async ({ skip }) => {
    if (!redis) skip();
    const dir = tempDir();
    const pricing = path.join(dir, 'pricing.json');
    writeFileSync(pricing, '{"broken":');
    const r = await spawnCli(['serve'], {
      WORKERS: '2',
      REDIS_URL: (redis as OwnRedis).url,
      LISTEN_ADDR: '127.0.0.1:0',
      DATA_DIR: path.join(dir, 'data'),
      PRICING_FILE: pricing,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`PRICING_FILE: cannot read pricing file ${pricing}`);
    expect(r.stderr).toMatch(/llm-proxy: worker [01] exited during start \(exit code 1\); see its error above/);
  });

  it('starts on an empty DATA_DIR: the secrets are generated once, before the workers start', ({ skip }) => {
    if (!redis) skip();
    expect(proxy.stderr()).toContain('Workers:           2 processes on this port');
    expect(proxy.stderr()).toContain('(generated now and saved to');
    expect(proxy.stdout() + proxy.stderr()).not.toMatch(/EEXIST|fatal/i);
    // Each worker journals into its own folder (a replacement replays its predecessor's).
    expect(existsSync(path.join(dataDir, 'journal', 'worker-0'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'journal', 'worker-1'))).toBe(true);
  });

  it('both workers answer on the one port, and every log line names its worker', async ({ skip }) => {
    if (!redis) skip();
    const token = await issue();
    const served = () =>
      new Set(logLines(proxy).flatMap((l) => (l.msg === 'proxy request' && l.status === 200 ? [l.worker] : [])));
    await eventually('requests served by worker 0 and worker 1', async () => {
      expect(await Promise.all([chat(token), chat(token), chat(token), chat(token)])).toEqual([200, 200, 200, 200]);
      return served().size === 2;
    });
    expect([...served()].sort()).toEqual([0, 1]);
    for (const l of logLines(proxy)) expect([0, 1, 'primary']).toContain(l.worker);
  });

  it('limits a max_requests token exactly across the workers', async ({ skip }) => {
    if (!redis) skip();
    const token = await issue({ max_requests: 25 });
    const first = logLines(proxy).length;
    const answers = await Promise.all(Array.from({ length: 60 }, () => chat(token)));
    expect(answers.filter((s) => s === 200)).toHaveLength(25);
    expect(answers.filter((s) => s === 429)).toHaveLength(35);
    // Both workers answered some (admitted or refused): the limit held across processes, not within one.
    const logged = () =>
      logLines(proxy)
        .slice(first)
        .filter(
          (l) => (l.msg === 'proxy request' && l.status === 200) || (l.msg === 'proxy refused' && l.status === 429),
        );
    await eventually('every answer is logged', () => logged().length >= 60);
    expect(new Set(logged().map((l) => l.worker))).toEqual(new Set([0, 1]));
  });

  it('/metrics reports the whole host, and its counters only grow, also across a worker killed and replaced', async ({
    skip,
  }) => {
    if (!redis) skip();
    const token = await issue();
    const before = total(await scrape(), 'llm_proxy_requests_total');
    for (let round = 0; round < 5; round++) {
      expect(await Promise.all(Array.from({ length: 6 }, () => chat(token)))).toEqual(Array(6).fill(200));
      await scrape();
    }
    // 30 more requests, whichever worker served each and whichever worker answers the scrape.
    await eventually(
      '30 more requests counted',
      async () => total(await scrape(), 'llm_proxy_requests_total') >= before + 30,
    );
    expect(total(scrapes.at(-1) as string, 'llm_proxy_requests_total')).toBe(before + 30);
    expect(total(scrapes.at(-1) as string, 'llm_proxy_workers')).toBe(2);

    const victim = servingPids().find((p) => p.slot === 1) as { pid: number };
    const killedAt = logLines(proxy).length;
    process.kill(victim.pid, 'SIGKILL');
    // Until the primary has seen it die, node:cluster may still hand it a new connection, which then
    // waits for the client's timeout (docs/scaling.md): a client's concern, not what this test is about.
    await eventually('the primary sees the worker die', () =>
      logLines(proxy).some((l) => l.msg === 'worker died: replacing it'),
    );
    // Scrapes while it is dead and being replaced: nothing the dead worker had counted goes away.
    await eventually('the slot is served by a new process', async () => {
      await scrape();
      return servingPids().filter((p) => p.slot === 1).length === 2;
    });
    const died = logLines(proxy).find((l) => l.msg === 'worker died: replacing it');
    expect(died).toMatchObject({ worker: 'primary', slot: 1, pid: victim.pid, signal: 'SIGKILL' });
    expect(total(await scrape(), 'llm_proxy_worker_exits_total')).toBe(1);
    const afterKill = total(scrapes.at(-1) as string, 'llm_proxy_requests_total');
    expect(afterKill).toBe(before + 30);
    // The replacement (worker 1's lines after the kill are its) serves, and counts on top of what its predecessor left.
    await eventually('the replacement serves', async () => {
      expect(await Promise.all(Array.from({ length: 4 }, () => chat(token)))).toEqual(Array(4).fill(200));
      return logLines(proxy)
        .slice(killedAt)
        .some((l) => l.msg === 'proxy request' && l.worker === 1);
    });
    for (let i = 0; i < 10; i++) await scrape();
    expect(total(scrapes.at(-1) as string, 'llm_proxy_requests_total')).toBeGreaterThan(afterKill);
  });

  it('a worker killed mid-request: its replacement replays its journal, so those requests still count', async ({
    skip,
  }) => {
    if (!redis) skip();
    const created = await manage('POST', '/tokens', {
      project_id: (await manage('POST', '/projects', { name: `p-kill-${Date.now()}`, api_key: UPSTREAM_KEY })).body.id,
    });
    registerSecret(created.body.token);
    const held = { 'x-mock-hold': '1' };
    // Four connections: the round robin gives each worker some.
    const requests = Array.from({ length: 4 }, () =>
      client(created.body.token)
        .chat.completions.create(
          { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
          { headers: held },
        )
        .then(
          () => 'served',
          () => 'cut',
        ),
    );
    await eventually('the upstream holds all four', () => mock.stats().held === 4);
    const victim = servingPids()
      .filter((p) => p.slot === 1)
      .at(-1) as { pid: number };
    const serving = servingPids().length;
    process.kill(victim.pid, 'SIGKILL');
    await eventually('a replacement serves', () => servingPids().length === serving + 1);
    mock.release();
    const outcomes = await Promise.all(requests);
    const cut = outcomes.filter((o) => o === 'cut').length;
    expect(cut).toBeGreaterThanOrEqual(1);
    // Each request has its record: the served ones as served, the cut ones from the dead worker's journal.
    await eventually('every request has its usage record', () => records(created.body.id).length === 4);
    const rows = records(created.body.id);
    expect(rows.filter((r) => r.status === 200)).toHaveLength(4 - cut);
    expect(rows.filter((r) => r.error === 'interrupted')).toHaveLength(cut);
    const replayed = logLines(proxy).filter((l) => l.msg === 'usage journal replayed' && l.worker === 1);
    expect(replayed.at(-1)).toMatchObject({ unfinished: cut });
  });

  it('SIGTERM to the primary drains an open stream in a worker, then every process exits 0', async ({ skip }) => {
    if (!redis) skip();
    const token = await issue();
    const stream = client(token).chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { headers: { 'x-mock-hold': '1', 'x-mock-chunks': '5', 'x-mock-chunk-delay-ms': '20' } },
    );
    await eventually('the upstream holds the request', () => mock.stats().held === 1);
    proxy.child.kill('SIGTERM');
    await eventually(
      'both workers drain',
      () => logLines(proxy).filter((l) => l.msg === 'shutting down: draining in-flight requests').length >= 2,
    );
    expect(mock.release()).toBe(1);
    let text = '';
    let done = false;
    for await (const chunk of await stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.choices[0]?.finish_reason) done = true;
    }
    expect(done).toBe(true);
    expect(text.length).toBeGreaterThan(0);
    expect(await proxy.exited).toBe(0);
    const stopped = logLines(proxy).filter((l) => l.worker === 'primary' && l.msg === 'worker stopped');
    expect(stopped.map((l) => l.code)).toEqual([0, 0]);
    expect(logLines(proxy).at(-1)).toMatchObject({ worker: 'primary', msg: 'llm-proxy stopped' });
  });
});
