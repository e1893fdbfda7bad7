import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../src/mock-upstream/index.js';
import { spawnServe } from './helpers/cli.js';
import { postgresDatabase } from './helpers/databases.js';
import { until } from './helpers/proxy.js';
import { serviceAvailable } from './helpers/services.js';

const MANAGEMENT_TOKEN = 'shutdown-sequence-management-token';
const UPSTREAM_KEY = 'sk-upstream-shutdown-sequence';
const RUNS = 3;

const dirs: string[] = [];
const mocks: MockUpstream[] = [];
afterAll(async () => {
  await Promise.all(mocks.map((m) => m.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Store = 'sqlite' | 'postgres';

/** What one stopped run left in its store: the refusal summaries and the usage records. */
async function storedAfter(dataDir: string, pgUrl: string | undefined) {
  const refusals = "select details from audit_events where action = 'proxy.refused'";
  const usage = 'select count(*) as n from usage_records';
  if (pgUrl === undefined) {
    const sqlite = new SQLite(path.join(dataDir, 'llm-proxy.db'), { readonly: true });
    try {
      const rows = sqlite.prepare(refusals).all() as Array<{ details: string }>;
      const { n } = sqlite.prepare(usage).get() as { n: number };
      return { refused: rows.map((r) => JSON.parse(r.details)), usageRecords: Number(n) };
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const rows = (await client.query(refusals)).rows as Array<{ details: string }>;
    const { n } = (await client.query(usage)).rows[0] as { n: string };
    return { refused: rows.map((r) => JSON.parse(r.details)), usageRecords: Number(n) };
  } finally {
    await client.end();
  }
}

/**
 * One run: a refused request leaves a `proxy.refused` summary pending (it is written only when its
 * minute ends, or at shutdown); with traffic, a completion writes usage, and a stream is in flight
 * when SIGTERM arrives and finishes while the server drains. Then the whole sequence must have run:
 * exit 0, the summary in the store and in AUDIT_LOG_FILE, `llm-proxy stopped` the last line.
 */
async function stopOnce(store: Store, traffic: boolean, mock: MockUpstream): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-stop-'));
  dirs.push(dir);
  const dataDir = path.join(dir, 'data');
  const auditFile = path.join(dir, 'audit', 'audit.jsonl');
  const db = store === 'postgres' ? await postgresDatabase() : undefined;
  const pgUrl = db?.config.kind === 'postgres' ? db.config.url : undefined;
  try {
    const srv = await spawnServe({
      DATA_DIR: dataDir,
      OPENAI_API_URL: mock.url,
      MANAGEMENT_TOKEN,
      AUDIT_LOG_FILE: auditFile,
      ...(pgUrl ? { DATABASE_URL: pgUrl, ENCRYPTION_KEY: randomBytes(32).toString('base64') } : {}),
    });
    const label = `${store}, ${traffic ? 'with' : 'without'} traffic, ${dataDir}`;
    try {
      const refused = new OpenAI({
        baseURL: `${srv.url}/v1`,
        apiKey: `sk-llmp-${randomBytes(32).toString('base64url')}`,
        maxRetries: 0,
      });
      await expect(
        refused.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      ).rejects.toMatchObject({ status: 401 });

      let drained: Promise<number> | undefined;
      if (traffic) {
        const client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: await issueToken(srv.url), maxRetries: 0 });
        const done = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
        });
        expect(done.choices[0]?.message.content).toBeTruthy();
        // Held at the mock until the server is draining: in flight when the signal arrives.
        const stream = client.chat.completions.create(
          { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-mock-hold': '1', 'x-mock-chunks': '3' } },
        );
        drained = (async () => {
          let chunks = 0;
          for await (const _ of await stream) chunks++;
          return chunks;
        })();
        await until(() => mock.stats().held === 1);
      }
      srv.child.kill('SIGTERM');
      if (drained) {
        await until(() => srv.stdout().includes('shutting down: draining in-flight requests'));
        expect(mock.release()).toBe(1);
        expect(await drained).toBeGreaterThan(3);
      }
      expect(await srv.exited, label).toBe(0);
    } finally {
      srv.child.kill('SIGKILL');
    }
    const lines = srv
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.at(-1)?.msg, label).toBe('llm-proxy stopped');

    const summary = { reason: 'unknown_token', count: 1 };
    const stored = await storedAfter(dataDir, pgUrl);
    expect(stored.refused, label).toEqual([expect.objectContaining(summary)]);
    expect(stored.usageRecords, label).toBe(traffic ? 2 : 0);
    expect(existsSync(auditFile), label).toBe(true);
    const inFile = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { action: string; details: unknown })
      .filter((e) => e.action === 'proxy.refused');
    expect(
      inFile.map((e) => e.details),
      label,
    ).toEqual([expect.objectContaining(summary)]);
  } finally {
    await db?.drop();
  }
}

async function issueToken(url: string): Promise<string> {
  const headers = { authorization: `Bearer ${MANAGEMENT_TOKEN}`, 'content-type': 'application/json' };
  const project = (await (
    await fetch(`${url}/manage/projects`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'stop', api_key: UPSTREAM_KEY }),
    })
  ).json()) as { id: string };
  const token = (await (
    await fetch(`${url}/manage/tokens`, { method: 'POST', headers, body: JSON.stringify({ project_id: project.id }) })
  ).json()) as { token: string };
  return token.token;
}

// Each case has its own mock upstream, data directories and databases: the four run side by side,
// each stopping its server RUNS times in a row (the defect this holds ended 2 runs in 3).
describe.concurrent.each<Store>(['sqlite', 'postgres'])(
  'every SIGTERM runs the whole shutdown sequence on %s',
  (store) => {
    it.each([
      ['after traffic (usage written, a stream drained)', true],
      ['without traffic', false],
    ])(
      '%s: exit 0, refusal summary written to the store and AUDIT_LOG_FILE, last line `llm-proxy stopped`',
      async (_name, traffic) => {
        if (store === 'postgres' && !(await serviceAvailable('postgres'))) return;
        const mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
        mocks.push(mock);
        for (let i = 0; i < RUNS; i++) await stopOnce(store, traffic, mock);
      },
    );
  },
);
