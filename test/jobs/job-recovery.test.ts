import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { TrackedJobsRepo } from '../../src/store/tracked-jobs-repo.js';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** What a restart or a dead recorder leaves behind, finished by the follower on its own. */

const FAST = { JOBS_POLL_MIN_MS: '20', JOBS_POLL_MAX_MS: '50' };
/** The first process never polls on its own. */
const IDLE = { JOBS_POLL_MIN_MS: '600000' };

const line = (id: string, content: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
  });

async function createBatch(client: OpenAI) {
  const file = await client.files.create({
    file: await toFile(
      Buffer.from(`${[line('a', 'one'), line('b', 'two words'), line('c', 'three')].join('\n')}\n`),
      'b.jsonl',
    ),
    purpose: 'batch',
  });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
}

const jobRows = async (s: TestServer, tokenId: string, jobId: string) => {
  await s.server.runtime.usage.flush();
  return (await s.server.runtime.usageRepo.listByToken(tokenId, 1000)).filter((r) => r.job_id === jobId);
};

let stacks: ProxyStack[] = [];
const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const st of stacks) await st.stop();
  stacks = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'llmp-test-job-recovery-'));
  dirs.push(d);
  return d;
}

describe('the follower carries on alone', () => {
  it('finishes a batch after a restart without any client retrieval', async () => {
    const dir = dataDir();
    const st = await startProxyStack({ env: { ...IDLE, DATA_DIR: dir } });
    stacks.push(st);
    const batch = await createBatch(st.client);
    const repo = () => new TrackedJobsRepo(st.s.server.runtime.db);
    await until(async () => (await repo().get(batch.id)) !== undefined);
    const due = Number((await repo().get(batch.id))?.next_poll_at);
    await st.s.stop();
    await st.mock.completeBatches();
    // The new process starts when the job's next poll is due (its clock past next_poll_at), and polls it itself.
    const shift = due - Date.now() + 1_000;
    const again = await startTestServer(
      { OPENAI_API_URL: st.mock.url, DATA_DIR: dir, ...FAST },
      () => Date.now() + shift,
    );
    servers.push(again);
    const repo2 = new TrackedJobsRepo(again.server.runtime.db);
    await until(async () => (await repo2.get(batch.id))?.state === 'done');
    expect(await repo2.get(batch.id)).toMatchObject({ records: 3, upstream_status: 'completed', attempts: 0 });
    const rows = await jobRows(again, st.tokenId, batch.id);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.usage_status === 'reported' && Number(r.total_tokens) > 0)).toBe(true);
    // No one retrieved it through the proxy: the only batch requests recorded are the creation.
    const byPath = (await again.server.runtime.usageRepo.listByToken(st.tokenId, 1000)).filter((r) =>
      r.path.startsWith('/v1/batches'),
    );
    expect(byPath.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/batches']);
  });

  it('takes over a recording left by a dead process: records once, limits not charged twice', async () => {
    const dir = dataDir();
    const st = await startProxyStack({ env: { ...FAST, DATA_DIR: dir } });
    stacks.push(st);
    const tok = await st.issueToken({ budget_usd: 10 });
    const client = st.clientFor(tok.token);
    const batch = await createBatch(client);
    const repo = () => new TrackedJobsRepo(st.s.server.runtime.db);
    await until(async () => (await repo().get(batch.id))?.state === 'done');
    const first = await jobRows(st.s, tok.id, batch.id);
    expect(first).toHaveLength(3);
    const jobCost = first.reduce((n, r) => n + Number(r.cost_nano_usd), 0);
    const before = (await st.s.manage('GET', `/tokens/${tok.id}`)).body.usage;
    // As a crash after the records were written and the limits charged, before the job was marked done.
    await st.s.server.runtime.db
      .updateTable('tracked_jobs')
      .set({ state: 'recording', records: 0, cost_nano_usd: 0, updated_at: Date.now() - 600_000 })
      .where('id', '=', batch.id)
      .execute();
    await st.s.stop();

    const again = await startTestServer({ OPENAI_API_URL: st.mock.url, DATA_DIR: dir, ...FAST });
    servers.push(again);
    const repo2 = new TrackedJobsRepo(again.server.runtime.db);
    await until(async () => (await repo2.get(batch.id))?.state === 'done');
    expect(await repo2.get(batch.id)).toMatchObject({ records: 3, cost_nano_usd: jobCost });
    const rows = await jobRows(again, tok.id, batch.id);
    expect(rows.map((r) => r.id).sort()).toEqual(first.map((r) => r.id).sort());
    // The rollups (and so every total) count the job once.
    const after = (await again.manage('GET', `/tokens/${tok.id}`)).body.usage;
    expect(after).toMatchObject({ requests: before.requests, cost_nano_usd: before.cost_nano_usd });
    // The budget, seeded from the store at the next request, holds the job's cost once: the takeover charged nothing.
    const c2 = new OpenAI({ baseURL: `${again.url}/v1`, apiKey: tok.token, maxRetries: 0 });
    await c2.models.list();
    const state = await again.server.runtime.limiter.inspect('token', tok.id, st.projectId);
    expect(state?.budgets.total?.spentNanoUsd).toBe(before.cost_nano_usd);
    expect(before.cost_nano_usd).toBeGreaterThanOrEqual(jobCost);
  });
});
