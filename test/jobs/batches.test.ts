import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageRow } from '../../src/store/schema.js';
import { TrackedJobsRepo } from '../../src/store/tracked-jobs-repo.js';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const FAST = { JOBS_POLL_MIN_MS: '20', JOBS_POLL_MAX_MS: '50' };
/** The follower never polls on its own within a test: only a retrieval through the proxy moves the job. */
const IDLE = { JOBS_POLL_MIN_MS: '600000' };

const line = (id: string, content: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
  });

async function createBatch(client: OpenAI, lines: string[]) {
  const file = await client.files.create({
    file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'batch.jsonl'),
    purpose: 'batch',
  });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
}

async function jobRecords(s: TestServer, tokenId: string, jobId: string): Promise<UsageRow[]> {
  await s.server.runtime.usage.flush();
  return (await s.server.runtime.usageRepo.listByToken(tokenId, 1000)).filter((r) => r.job_id === jobId);
}

async function jobDone(s: TestServer, id: string) {
  const repo = new TrackedJobsRepo(s.server.runtime.db);
  await until(async () => (await repo.get(id))?.state === 'done');
  return repo.get(id);
}

/** The lines of a file as the upstream holds it (read straight from the mock). */
async function upstreamLines(st: { mock: { url: string } }, fileId: string) {
  const res = await fetch(`${st.mock.url}/v1/files/${fileId}/content`, {
    headers: { authorization: `Bearer ${UPSTREAM_KEY}` },
  });
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number; body: Record<string, any> } });
}

let stacks: ProxyStack[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const st of stacks) await st.stop();
  stacks = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('batches through the proxy', () => {
  it('a completed batch: one record per line against its token, at half price, charged to the budget once', async () => {
    const st = await startProxyStack({ env: FAST });
    stacks.push(st);
    const tok = await st.issueToken({ budget_usd: 5 });
    const client = st.clientFor(tok.token);
    const batch = await createBatch(client, [
      line('a', 'hello there'),
      line('b', 'a longer question, please'),
      line('c', 'hi'),
    ]);
    const job = await jobDone(st.s, batch.id);
    expect(job).toMatchObject({ kind: 'batch', token_id: tok.id, project_id: st.projectId, records: 3 });

    const finished = await client.batches.retrieve(batch.id);
    expect(finished.status).toBe('completed');
    const out = await upstreamLines(st, finished.output_file_id as string);
    const recs = await jobRecords(st.s, tok.id, batch.id);
    expect(recs).toHaveLength(3);
    const pricing = st.s.server.runtime.pricing;
    let total = 0;
    for (const l of out) {
      const u = l.response.body.usage;
      const rec = recs.find((r) => r.prompt_tokens === u.prompt_tokens && r.completion_tokens === u.completion_tokens);
      expect(rec).toMatchObject({
        path: '/v1/chat/completions',
        model: 'gpt-4o-mini',
        status: 200,
        usage_status: 'reported',
      });
      const live = pricing.cost('gpt-4o-mini', {
        promptTokens: u.prompt_tokens,
        completionTokens: u.completion_tokens,
        cachedTokens: 0,
        reasoningTokens: 0,
      }) as number;
      expect(Number(rec?.cost_nano_usd)).toBe(Math.round(live / 2));
      total += Math.round(live / 2);
    }
    expect(Number(job?.cost_nano_usd)).toBe(total);
    const state = await st.s.server.runtime.limiter.inspect('token', tok.id, st.projectId);
    expect(state?.budgets.total?.spentNanoUsd).toBe(total);
    // Seen finished again (the retrieval above, and once more): nothing more is recorded or charged.
    await client.batches.retrieve(batch.id);
    await st.s.server.runtime.jobs.tick();
    expect(await jobRecords(st.s, tok.id, batch.id)).toHaveLength(3);
    expect(
      (await st.s.server.runtime.limiter.inspect('token', tok.id, st.projectId))?.budgets.total?.spentNanoUsd,
    ).toBe(total);
  });

  it('a cancelled batch records the lines done before it was cancelled', async () => {
    const st = await startProxyStack({ env: IDLE, mock: { batchLinesPerPoll: 1 } });
    stacks.push(st);
    const batch = await createBatch(st.client, [line('a', 'one'), line('b', 'two'), line('c', 'three')]);
    await st.client.batches.retrieve(batch.id); // in_progress
    await st.client.batches.retrieve(batch.id); // line a done
    expect((await st.client.batches.cancel(batch.id)).status).toBe('cancelling');
    expect((await st.client.batches.retrieve(batch.id)).status).toBe('cancelled');
    // That retrieval saw it finished: the follower polls it at its next pass.
    const job = await jobDone(st.s, batch.id);
    expect(job).toMatchObject({ records: 1, upstream_status: 'cancelled' });
    const recs = await jobRecords(st.s, st.tokenId, batch.id);
    expect(recs).toHaveLength(1);
    expect(Number(recs[0]?.total_tokens)).toBeGreaterThan(0);
  });

  it('an expired batch records its partial output; a failed one records nothing but is done', async () => {
    const st = await startProxyStack({ env: IDLE, mock: { batchLinesPerPoll: 1 } });
    stacks.push(st);
    const failed = await createBatch(st.client, ['{"custom_id":"x","method":"POST","url":"/v1/embeddings","body":{}}']);
    expect((await st.client.batches.retrieve(failed.id)).status).toBe('failed');
    expect(await jobDone(st.s, failed.id)).toMatchObject({ records: 0, upstream_status: 'failed' });
    const expiring = await createBatch(st.client, [line('a', 'one'), line('b', 'two'), line('c', 'three')]);
    await st.client.batches.retrieve(expiring.id); // in_progress
    await st.client.batches.retrieve(expiring.id); // line a done
    expect(await st.mock.expireBatches()).toBe(1);
    expect((await st.client.batches.retrieve(expiring.id)).status).toBe('expired');
    expect(await jobDone(st.s, expiring.id)).toMatchObject({ records: 1, upstream_status: 'expired' });
    expect(await jobRecords(st.s, st.tokenId, expiring.id)).toHaveLength(1);
  });

  it('a restart between creation and completion still records, from the database', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-test-batches-restart-'));
    dirs.push(dataDir);
    const st = await startProxyStack({ env: { ...IDLE, DATA_DIR: dataDir } });
    const batch = await createBatch(st.client, [line('a', 'one'), line('b', 'two')]);
    await until(async () => (await new TrackedJobsRepo(st.s.server.runtime.db).get(batch.id)) !== undefined);
    await st.s.stop();
    await st.mock.completeBatches();
    const again = await startTestServer({ OPENAI_API_URL: st.mock.url, DATA_DIR: dataDir, ...FAST });
    try {
      // The new process follows the job it finds in the database; a retrieval makes it poll now.
      const client = new OpenAI({ baseURL: `${again.url}/v1`, apiKey: st.token, maxRetries: 0 });
      expect((await client.batches.retrieve(batch.id)).status).toBe('completed');
      expect(await jobDone(again, batch.id)).toMatchObject({ records: 2 });
      expect(await jobRecords(again, st.tokenId, batch.id)).toHaveLength(2);
    } finally {
      await again.stop();
      await st.mock.close();
    }
  });
});

describe('background responses through the proxy', () => {
  const usageOf = (recs: UsageRow[]) => recs.reduce((n, r) => n + Number(r.total_tokens ?? 0), 0);

  it('recorded once when a retrieval sees it finished first; the retrievals carry no usage', async () => {
    const st = await startProxyStack({ env: IDLE });
    stacks.push(st);
    const created = await st.client.responses.create({ model: 'gpt-4o-mini', input: 'hello there', background: true });
    expect(created.status).toBe('queued');
    await until(async () => (await new TrackedJobsRepo(st.s.server.runtime.db).get(created.id)) !== undefined);
    expect((await st.client.responses.retrieve(created.id)).status).toBe('in_progress');
    const done = await st.client.responses.retrieve(created.id);
    expect(done.status).toBe('completed');
    await st.client.responses.retrieve(created.id);
    const job = await jobDone(st.s, created.id);
    expect(job?.records).toBe(1);
    const recs = await jobRecords(st.s, st.tokenId, created.id);
    expect(recs).toHaveLength(1);
    expect(Number(recs[0]?.total_tokens)).toBe(done.usage?.total_tokens);
    // Every record of the token together counts the response's tokens once.
    const all = await st.waitUsage(st.tokenId, 5);
    expect(usageOf(all)).toBe(done.usage?.total_tokens);
  });

  it('recorded once when the background poll finds it finished first', async () => {
    const st = await startProxyStack({ env: FAST });
    stacks.push(st);
    const created = await st.client.responses.create({ model: 'gpt-4o-mini', input: 'hello there', background: true });
    const job = await jobDone(st.s, created.id);
    expect(job).toMatchObject({ records: 1, upstream_status: 'completed' });
    const seen = await st.client.responses.retrieve(created.id);
    expect(seen.status).toBe('completed');
    const recs = await jobRecords(st.s, st.tokenId, created.id);
    expect(recs).toHaveLength(1);
    expect(Number(recs[0]?.total_tokens)).toBe(seen.usage?.total_tokens);
    const all = await st.waitUsage(st.tokenId, 3);
    expect(usageOf(all)).toBe(seen.usage?.total_tokens);
  });

  it('a cancelled background response is recorded with what it billed', async () => {
    const st = await startProxyStack({ env: IDLE });
    stacks.push(st);
    const created = await st.client.responses.create({ model: 'gpt-4o-mini', input: 'hello there', background: true });
    await until(async () => (await new TrackedJobsRepo(st.s.server.runtime.db).get(created.id)) !== undefined);
    await st.client.responses.retrieve(created.id);
    const cancelled = await st.client.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    await jobDone(st.s, created.id);
    const recs = await jobRecords(st.s, st.tokenId, created.id);
    expect(recs).toHaveLength(1);
    expect(Number(recs[0]?.prompt_tokens)).toBe(cancelled.usage?.input_tokens);
  });
});
