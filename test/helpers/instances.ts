import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type OpenAI from 'openai';
import type pg from 'pg';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { freePort, OwnRedis } from '../scaleout/redis-server.js';
import { type ServeProcess, spawnServe } from './cli.js';
import { postgresDatabase, type TestDatabase } from './databases.js';
import { UPSTREAM_KEY } from './proxy.js';
import { cuttableDatabase, proxyClient, queryOnce, redisServerInstalled } from './scaleout.js';
import { registerSecret } from './secret-watch.js';
import { callManage, startTestServer, type TestServer } from './server.js';
import { serviceAvailable } from './services.js';
import type { Forwarder } from './tcp-forwarder.js';
import { currentTestFile } from './test-file.js';

/**
 * Several proxy instances sharing one PostgreSQL database and one Redis, as a scaled-out deployment
 * runs them: in-process servers (startTestServer), or real `llm-proxy serve` processes where the
 * test must kill one. Each instance has its own DATA_DIR (its usage journal is per instance), kept
 * until `stop` so an instance killed and started again replays it.
 */

export interface Instance {
  readonly url: string;
  readonly kind: 'in-process' | 'process';
  /** The in-process server (undefined for a process). */
  readonly server: TestServer | undefined;
  /** The child process (undefined in-process). */
  readonly process: ServeProcess | undefined;
  readonly dataDir: string;
}

export interface Cluster {
  readonly mock: MockUpstream;
  readonly redis: OwnRedis;
  /** With `cuttable`: the TCP forwarder the instances reach PostgreSQL through (the test's own queries go direct). */
  readonly fwd: Forwarder | undefined;
  /** The shared database's URL (straight to PostgreSQL). */
  readonly dbUrl: string;
  /** The environment every instance starts with. */
  readonly env: Record<string, string>;
  readonly instances: Instance[];
  /** The instance request `i` goes to: round-robin over those alive. */
  at(i: number): Instance;
  /** Starts one more instance (in this process, or as a process), with extra settings. */
  add(kind: Instance['kind'], env?: Record<string, string>, dataDir?: string): Promise<Instance>;
  /** SIGKILLs a process instance and waits until it is gone (it stays out of `at`). */
  kill(instance: Instance): Promise<void>;
  /** The management API, through the first live instance. */
  manage(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** A project and a token with these limits; the token's id, plaintext and project. */
  issue(limits?: Record<string, unknown>): Promise<{ id: string; token: string; projectId: string }>;
  /** The official client against `instance` with `token`, never retrying (each answer is counted). */
  client(instance: Instance, token: string, headers?: Record<string, string>): OpenAI;
  /** One query straight to the shared database. */
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** The token's usage records in the database (id, status, cost, usage_status), oldest first. */
  records(tokenId: string): Promise<UsageRow[]>;
  stop(): Promise<void>;
}

export interface UsageRow {
  id: string;
  status: number;
  cost_nano_usd: number | null;
  total_tokens: number | null;
  usage_status: string;
}

/**
 * Starts `n` instances (`processes` of them as real processes, started last) on a fresh database
 * and an own redis-server, or resolves undefined (the test skips) when PostgreSQL or redis-server
 * is missing.
 */
export async function startInstances(
  n: number,
  opts: { processes?: number; env?: Record<string, string>; cuttable?: boolean } = {},
): Promise<Cluster | undefined> {
  if (!(await serviceAvailable('postgres'))) return undefined;
  if (!redisServerInstalled()) return undefined;
  const tdb: TestDatabase = await postgresDatabase();
  if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
  const dbUrl = tdb.config.url;
  const cut = opts.cuttable ? await cuttableDatabase(dbUrl) : undefined;
  const fwd = cut?.fwd;
  const instanceDbUrl = cut?.url ?? dbUrl;
  const redis = new OwnRedis(await freePort());
  await redis.start();
  const mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  const managementToken = randomBytes(24).toString('hex');
  registerSecret(managementToken);
  const env: Record<string, string> = {
    DATABASE_URL: instanceDbUrl,
    REDIS_URL: redis.url,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    MANAGEMENT_TOKEN: managementToken,
    OPENAI_API_URL: mock.url,
    MAINTENANCE_INTERVAL_MS: '0',
    // These tests are about exactness, not timeouts: a loaded machine can hold a reply past 250 ms.
    REDIS_COMMAND_TIMEOUT_MS: '5000',
    USAGE_FLUSH_INTERVAL_MS: '50',
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const instances: Instance[] = [];
  const dead = new Set<Instance>();
  const dirs: string[] = [];
  const query = <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => queryOnce<R>(dbUrl, sql, params);

  const add: Cluster['add'] = async (kind, extra = {}, dataDir) => {
    const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), `llmp-test-${path.basename(currentTestFile())}-`));
    if (!dataDir) dirs.push(dir);
    const all = { ...env, DATA_DIR: dir, ...extra };
    let inst: Instance;
    if (kind === 'in-process') {
      const server = await startTestServer(all);
      inst = { url: server.url, kind, server, process: undefined, dataDir: dir };
    } else {
      const proc = await spawnServe(all);
      inst = { url: proc.url, kind, server: undefined, process: proc, dataDir: dir };
    }
    instances.push(inst);
    return inst;
  };
  for (let i = 0; i < n; i++) await add(i < n - (opts.processes ?? 0) ? 'in-process' : 'process');

  const alive = () => instances.filter((x) => !dead.has(x));
  const manage: Cluster['manage'] = async (method, route, body) => {
    const inst = alive()[0] as Instance;
    const { status, body: parsed } = await callManage(inst.url, managementToken, method, route, body);
    return { status, body: parsed };
  };

  return {
    mock,
    redis,
    fwd,
    dbUrl,
    env,
    instances,
    at: (i) => {
      const live = alive();
      return live[i % live.length] as Instance;
    },
    add,
    kill: async (inst) => {
      const child = inst.process?.child;
      if (!child) throw new Error('only a process instance can be killed');
      dead.add(inst);
      child.kill('SIGKILL');
      await inst.process?.exited;
    },
    manage,
    issue: async (limits = {}) => {
      const p = await manage('POST', '/projects', {
        name: `p-${randomBytes(4).toString('hex')}`,
        api_key: UPSTREAM_KEY,
      });
      if (p.status !== 201) throw new Error(`project: ${p.status} ${JSON.stringify(p.body)}`);
      const t = await manage('POST', '/tokens', { project_id: p.body.id, ...limits });
      if (t.status !== 201) throw new Error(`token: ${t.status} ${JSON.stringify(t.body)}`);
      return { id: t.body.id as string, token: t.body.token as string, projectId: p.body.id as string };
    },
    client: proxyClient,
    query,
    records: async (tokenId) =>
      (
        await query<UsageRow>(
          'SELECT id, status, cost_nano_usd, total_tokens, usage_status FROM usage_records WHERE token_id = $1 ORDER BY created_at, id',
          [tokenId],
        )
      ).map((r) => ({
        ...r,
        cost_nano_usd: r.cost_nano_usd === null ? null : Number(r.cost_nano_usd),
        total_tokens: r.total_tokens === null ? null : Number(r.total_tokens),
      })),
    stop: async () => {
      fwd?.resume();
      for (const inst of instances) {
        if (inst.server) await inst.server.stop();
        else if (inst.process && !dead.has(inst)) {
          inst.process.child.kill('SIGTERM');
          await inst.process.exited;
        }
      }
      await fwd?.close();
      await mock.close();
      await redis.kill();
      await tdb.drop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
