import { randomBytes } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { TrackedJobsRepo } from '../../src/store/tracked-jobs-repo.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

/** Two instances on one PostgreSQL database: a batch is followed, recorded and charged once. */
let db: TestDatabase | undefined;
let mock: MockUpstream;
const servers: TestServer[] = [];

beforeAll(async () => {
  if (!(await serviceAvailable('postgres'))) return;
  db = await postgresDatabase();
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY, batchLinesPerPoll: 1 });
  const managementToken = `mgmt-${randomBytes(16).toString('hex')}`;
  registerSecret(managementToken);
  const env = {
    DATABASE_URL: db.config.kind === 'postgres' ? db.config.url : '',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    MANAGEMENT_TOKEN: managementToken,
    OPENAI_API_URL: mock.url,
    USAGE_FLUSH_INTERVAL_MS: '20',
    JOBS_POLL_MIN_MS: '20',
    JOBS_POLL_MAX_MS: '40',
  };
  servers.push(await startTestServer(env));
  servers.push(await startTestServer(env));
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  await mock?.close();
  await db?.drop();
});

it('two instances on PostgreSQL follow one batch once', async (ctx) => {
  if (!db) ctx.skip();
  const [a, b] = servers as [TestServer, TestServer];
  const project = await a.manage('POST', '/projects', { name: 'jobs', api_key: UPSTREAM_KEY });
  const token = await a.manage('POST', '/tokens', { project_id: project.body.id, budget_usd: 5 });
  const viaA = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: token.body.token, maxRetries: 0 });
  const viaB = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: token.body.token, maxRetries: 0 });
  const lines = ['a', 'b', 'c', 'd'].map((id) =>
    JSON.stringify({
      custom_id: id,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${id}` }] },
    }),
  );
  const file = await viaA.files.create({
    file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'b.jsonl'),
    purpose: 'batch',
  });
  const batch = await viaA.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  // Both instances also see it retrieved while it runs and once it is done.
  const repo = new TrackedJobsRepo(a.server.runtime.db);
  await until(async () => {
    await viaA.batches.retrieve(batch.id);
    await viaB.batches.retrieve(batch.id);
    return (await repo.get(batch.id))?.state === 'done';
  });
  for (const s of servers) await s.server.runtime.usage.flush();
  const records = (await a.server.runtime.usageRepo.listByToken(token.body.id, 1000)).filter(
    (r) => r.job_id === batch.id,
  );
  expect(records).toHaveLength(4);
  expect(new Set(records.map((r) => r.id)).size).toBe(4);
  expect((await repo.get(batch.id))?.records).toBe(4);
  // Exactly one instance recorded it (and so charged the budget).
  const recorded = servers.map(
    (s) =>
      s
        .logs()
        .split('\n')
        .filter((l) => l.includes('job usage recorded') && l.includes(batch.id)).length,
  );
  expect(recorded.reduce((x, y) => x + y, 0)).toBe(1);
});
