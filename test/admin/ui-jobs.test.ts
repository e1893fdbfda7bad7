/**
 * Batch and background-response records on the token page, in real headless Chromium against a
 * real server: labelled by kind, filtered by job (from a label or a typed id) and by kind.
 * Screenshots land in test-results/screenshots/ (jobs-*).
 */
import OpenAI, { toFile } from 'openai';
import type { ConsoleMessage } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { TrackedJobsRepo } from '../../src/store/tracked-jobs-repo.js';
import { type BrowserSession, startBrowser } from '../helpers/browser.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

const hasChromium = await serviceAvailable('chromium');

const line = (id: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `line ${id}` }] },
  });

describe.runIf(hasChromium)('admin UI: batch and background records', () => {
  let mock: MockUpstream;
  let s: TestServer;
  let browser: BrowserSession;
  let tokenId = '';
  let batchId = '';
  let respId = '';

  beforeAll(async () => {
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    s = await startTestServer({
      OPENAI_API_URL: mock.url,
      USAGE_FLUSH_INTERVAL_MS: '20',
      JOBS_POLL_MIN_MS: '20',
      JOBS_POLL_MAX_MS: '50',
    });
    const project = await s.manage('POST', '/projects', { name: 'jobs', api_key: UPSTREAM_KEY });
    const t = (await s.manage('POST', '/tokens', { project_id: project.body.id, name: 'batcher' })).body;
    registerSecret(t.token);
    tokenId = t.id;
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: t.token, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'plain' }] });
    const file = await client.files.create({
      file: await toFile(Buffer.from(`${line('a')}\n${line('b')}\n`), 'b.jsonl'),
      purpose: 'batch',
    });
    batchId = (
      await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      })
    ).id;
    respId = (await client.responses.create({ model: 'gpt-4o-mini', input: 'later', background: true })).id;
    const repo = new TrackedJobsRepo(s.server.runtime.db);
    await until(async () => (await repo.get(batchId))?.state === 'done' && (await repo.get(respId))?.state === 'done');
    await s.server.runtime.usage.flush();
    browser = await startBrowser(s.url);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await mock?.close();
  });

  it('labels job records, filters by a job from its label or a typed id, and by kind', async () => {
    await browser.context.clearCookies();
    const r = await browser.context.request.post(`${s.url}/manage/session`, { data: { token: s.managementToken } });
    expect(r.status()).toBe(200);
    const page = await browser.page();
    const messages: string[] = [];
    const record = (m: ConsoleMessage) => messages.push(`${m.type()}: ${m.text()}`);
    page.on('console', record);
    await page.goto(`${s.url}/admin/tokens/${tokenId}`);
    const table = page.getByTestId('usage-records');
    const rows = table.locator('tbody tr');
    await table.locator(`tr[data-job="${batchId}"]`).first().waitFor();
    // Everything: the requests (chat, upload, batch and response creation) and the three job records.
    await until(async () => (await rows.count()) === 7);
    expect(await table.locator(`tr[data-job="${batchId}"]`).count()).toBe(2);
    await expect.poll(() => table.locator(`tr[data-job="${respId}"] .badge`).textContent()).toBe('background');
    expect(await table.locator(`tr[data-job="${batchId}"] .badge`).first().textContent()).toBe('batch');
    await browser.screenshot(page, 'jobs-token-records');

    // A job's label shows only its records, and fills the job field.
    await table.locator(`tr[data-job="${batchId}"] button`).first().click();
    await until(async () => (await rows.count()) === 2 && (await table.locator('tr:not([data-job])').count()) === 1);
    expect(await page.getByLabel('Job id').inputValue()).toBe(batchId);

    // A typed id does the same.
    await page.getByLabel('Job id').fill(respId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await until(async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-job')) === respId);

    // Kinds: only requests, then only job records.
    await page.getByRole('button', { name: 'Clear job' }).click();
    await page.getByLabel('Show').selectOption('request');
    await until(async () => (await rows.count()) === 4);
    expect(await table.locator('tbody tr[data-job]').count()).toBe(0);
    await page.getByLabel('Show').selectOption('job');
    await until(async () => (await rows.count()) === 3);
    expect(await table.locator('tbody tr[data-job]').count()).toBe(3);

    page.off('console', record);
    await page.close();
    expect(messages).toEqual([]);
  });
});
