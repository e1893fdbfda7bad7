import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrackedJobsRepo } from '../../src/store/tracked-jobs-repo.js';
import { runCli } from '../helpers/cli.js';
import { type IssuedToken, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';

/** A batch's and a background response's records seen through the usage API, the CLI and the metrics. */

const line = (id: string, content: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
  });

let st: ProxyStack;
let tok: IssuedToken;
let client: OpenAI;
let batchId: string;
let respId: string;
let metricsBefore: string;

const metrics = async () =>
  (await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } })).text();
/** The value of one series (0 when absent). */
const series = (text: string, name: string, labels: string) => {
  const m = new RegExp(`^${name}\\{${labels}[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};

beforeAll(async () => {
  st = await startProxyStack({ env: { JOBS_POLL_MIN_MS: '20', JOBS_POLL_MAX_MS: '50' } });
  tok = await st.issueToken({ name: 'batcher' });
  client = st.clientFor(tok.token);
  metricsBefore = await metrics();
  // One ordinary request, so that the filters have something to leave out.
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'plain' }] });
  const file = await client.files.create({
    file: await toFile(Buffer.from(`${[line('a', 'one'), line('b', 'two words')].join('\n')}\n`), 'b.jsonl'),
    purpose: 'batch',
  });
  batchId = (
    await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  ).id;
  respId = (await client.responses.create({ model: 'gpt-4o-mini', input: 'later', background: true })).id;
  const repo = new TrackedJobsRepo(st.s.server.runtime.db);
  await until(async () => (await repo.get(batchId))?.state === 'done' && (await repo.get(respId))?.state === 'done');
  await st.s.server.runtime.usage.flush();
});
afterAll(async () => st?.stop());

describe('job records in the usage API', () => {
  it('lists a job’s records by job_id, labelled, and totals them', async () => {
    const recs = await st.s.manage('GET', `/usage/records?job_id=${batchId}`);
    expect(recs.status).toBe(200);
    expect(recs.body.data).toHaveLength(2);
    for (const r of recs.body.data) {
      expect(r).toMatchObject({ job_id: batchId, token_id: tok.id, token_name: 'batcher', model: 'gpt-4o-mini' });
    }
    const tokens = recs.body.data.reduce((n: number, r: { total_tokens: number }) => n + r.total_tokens, 0);
    const cost = recs.body.data.reduce((n: number, r: { cost_nano_usd: number }) => n + r.cost_nano_usd, 0);
    const totals = await st.s.manage('GET', `/usage?job_id=${batchId}`);
    expect(totals.status).toBe(200);
    expect(totals.body.totals).toMatchObject({ requests: 2, total_tokens: tokens, cost_nano_usd: cost, errors: 0 });
    const job = await new TrackedJobsRepo(st.s.server.runtime.db).get(batchId);
    expect(Number(job?.cost_nano_usd)).toBe(cost);
    const byModel = await st.s.manage('GET', `/usage?job_id=${batchId}&group_by=model`);
    expect(byModel.body.data).toMatchObject([{ model: 'gpt-4o-mini', requests: 2 }]);
    // One record by id carries its job too.
    const one = await st.s.manage('GET', `/usage/records/${recs.body.data[0].id}`);
    expect(one.body.job_id).toBe(batchId);
  });

  it('filters records by kind and pages them newest first', async () => {
    const jobs = await st.s.manage('GET', `/usage/records?token_id=${tok.id}&kind=job`);
    expect(new Set(jobs.body.data.map((r: { job_id: string }) => r.job_id))).toEqual(new Set([batchId, respId]));
    expect(jobs.body.data).toHaveLength(3);
    const requests = await st.s.manage('GET', `/usage/records?token_id=${tok.id}&kind=request`);
    expect(requests.body.data.length).toBeGreaterThanOrEqual(4); // chat, file upload, batch and response creation
    expect(requests.body.data.every((r: { job_id: string | null }) => r.job_id === null)).toBe(true);
    const all: Array<{ id: string; created_at: string }> = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: typeof all; next_cursor: string | null } } = await st.s.manage(
        'GET',
        `/usage/records?token_id=${tok.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      all.push(...page.body.data);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(all).toHaveLength(jobs.body.data.length + requests.body.data.length);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    const times = all.map((r) => Date.parse(r.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('refuses what it cannot answer with a clear 400', async () => {
    for (const q of [
      `/usage?job_id=${batchId}&group_by=token`,
      `/usage/records?job_id=${batchId}&kind=request`,
      '/usage/records?cursor=bm90LWEtY3Vyc29y',
      '/usage/records?kind=other',
    ]) {
      const res = await st.s.manage('GET', q);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code, q).toBe('invalid_request');
    }
  });

  it('counts job records in llm_proxy_tokens_total and llm_proxy_cost_usd_total', async () => {
    const recs = (await st.s.manage('GET', `/usage/records?token_id=${tok.id}`)).body.data as Array<{
      model: string | null;
      prompt_tokens: number | null;
      completion_tokens: number | null;
      cost_nano_usd: number | null;
    }>;
    const sum = (k: 'prompt_tokens' | 'completion_tokens' | 'cost_nano_usd') =>
      recs.filter((r) => r.model === 'gpt-4o-mini').reduce((n, r) => n + (r[k] ?? 0), 0);
    const after = await metrics();
    const grew = (name: string, labels: string) => series(after, name, labels) - series(metricsBefore, name, labels);
    expect(grew('llm_proxy_tokens_total', 'model="gpt-4o-mini",kind="input"')).toBe(sum('prompt_tokens'));
    expect(grew('llm_proxy_tokens_total', 'model="gpt-4o-mini",kind="output"')).toBe(sum('completion_tokens'));
    expect(grew('llm_proxy_cost_usd_total', 'model="gpt-4o-mini"')).toBeCloseTo(sum('cost_nano_usd') / 1e9, 9);
  });

  it('the CLI lists records with their job and sums a job', async () => {
    const env = { LLM_PROXY_URL: st.url, MANAGEMENT_TOKEN: st.s.managementToken };
    const list = await runCli(['records', '--job', batchId], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('job_id');
    expect(list.stdout.split(batchId).length - 1).toBe(2);
    const usage = await runCli(['usage', '--job', batchId, '--json'], env);
    expect(usage.code, usage.stderr).toBe(0);
    expect(JSON.parse(usage.stdout).totals.requests).toBe(2);
  });
});
