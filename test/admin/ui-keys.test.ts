/**
 * A project's upstream keys in the admin UI, in real headless Chromium: an admin adds a second key
 * (pointing at a second mock upstream), rotates it, disables the first, meets the API's refusal to
 * disable or remove the last enabled key in the dialog that asked, and removes the first. A request
 * through the proxy with the official SDK then goes with the one key left: the second mock sees it
 * with the rotated secret, and the usage record names that key. No secret stays in the page.
 */
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { axeViolations, type BrowserSession, startBrowser } from '../helpers/browser.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

const hasChromium = await serviceAvailable('chromium');

/** The second key's first secret, which its upstream refuses, and the one it is rotated to. */
const FIRST_SECRET = 'sk-proj-backup-first-secret-0001';
const ROTATED_SECRET = 'sk-proj-backup-rotated-secret-9f2c';

describe.runIf(hasChromium)('admin UI: a project’s upstream keys', () => {
  let first: MockUpstream;
  let second: MockUpstream;
  let s: TestServer;
  let browser: BrowserSession;
  let page: Page;
  let projectId = '';
  let token = '';

  beforeAll(async () => {
    registerSecret(FIRST_SECRET);
    registerSecret(ROTATED_SECRET);
    first = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    second = await startMockUpstream({ apiKey: ROTATED_SECRET });
    // Cooldowns long enough to be seen in the page, whatever the machine's speed.
    s = await startTestServer({
      OPENAI_API_URL: first.url,
      USAGE_FLUSH_INTERVAL_MS: '20',
      UPSTREAM_COOLDOWN_MS: '600000',
      UPSTREAM_COOLDOWN_MAX_MS: '600000',
    });
    projectId = (await s.manage('POST', '/projects', { name: 'pool', api_key: UPSTREAM_KEY })).body.id;
    token = (await s.manage('POST', '/tokens', { project_id: projectId, name: 'app' })).body.token;
    browser = await startBrowser(s.url);
    page = await browser.page();
    await page.goto(`${s.url}/admin/`);
    await page.getByLabel('Management token').fill(s.managementToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.goto(`${s.url}/admin/projects/${projectId}`);
    await page.getByRole('heading', { level: 1, name: 'pool' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await first?.close();
    await second?.close();
  });

  const keys = () => page.getByRole('region', { name: 'Upstream keys' });
  const row = (name: string) =>
    keys()
      .getByRole('row')
      .filter({ has: page.getByText(name, { exact: true }) });
  const keysByApi = async () =>
    (await s.manage('GET', `/projects/${projectId}/keys`)).body.data as Array<{
      id: string;
      name: string;
      enabled: boolean;
      http2: boolean;
      weight: number;
      base_url: string | null;
      api_key_hint: string;
    }>;

  it('lists the project’s first key', async () => {
    await row('primary').getByText('enabled').waitFor();
    expect(await row('primary').getByRole('cell').nth(1).textContent()).toBe('default');
  });

  it('adds a second key, showing the API’s refusal of a taken name in the dialog; the secret is not kept', async () => {
    await keys().getByRole('button', { name: 'Add a key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an upstream key' });
    await dialog.getByLabel('Name').fill('primary');
    await dialog.getByLabel('Upstream API key').fill(FIRST_SECRET);
    await dialog.getByLabel('Upstream base URL').fill(second.url);
    await dialog.getByLabel('Weight').fill('3');
    await dialog.getByLabel('HTTP/2 to the upstream').check();
    await dialog.getByRole('button', { name: 'Add key' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'This project already has a key named "primary".' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await dialog.getByLabel('Name').fill('backup');
    await dialog.getByRole('button', { name: 'Add key' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row('backup').getByText(second.url).waitFor();
    // Weights 1 and 3: the new key takes three quarters of the requests.
    expect(await row('backup').getByRole('cell').nth(3).textContent()).toBe('375 %');
    expect(await page.content()).not.toContain(FIRST_SECRET);
    // Opened again, the form starts empty.
    await keys().getByRole('button', { name: 'Add a key' }).click();
    expect(
      await page.getByRole('dialog', { name: 'Add an upstream key' }).getByLabel('Upstream API key').inputValue(),
    ).toBe('');
    await page.getByRole('button', { name: 'Cancel' }).click();
    const added = (await keysByApi()).find((k) => k.name === 'backup');
    expect(added).toMatchObject({
      enabled: true,
      weight: 3,
      base_url: second.url,
      api_key_hint: 'sk-proj-…0001',
      http2: true,
    });
  });

  it('rotates the second key to a new secret', async () => {
    await row('backup').getByRole('button', { name: 'Rotate backup' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the key backup' });
    await dialog.getByText('sk-proj-…0001').waitFor();
    await dialog.getByLabel('New upstream API key').fill(ROTATED_SECRET);
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row('backup').getByText('sk-proj-…9f2c').waitFor();
    expect(await page.content()).not.toContain(ROTATED_SECRET);
  });

  it('shows a key cooling down after its upstream failed', async () => {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 });
    const failing = client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-mock-status': '500' } },
    );
    await expect(failing).rejects.toMatchObject({ status: 500 });
    // The token reads no body, so the key cools for every model, not one.
    const cooled = first.stats().requests === 1 ? 'primary' : 'backup';
    await page.reload();
    await row(cooled)
      .getByText(/^cooling: all models, retried in \d+ min/)
      .waitFor();
    const [other] = (await keysByApi()).filter((k) => k.name !== cooled);
    expect(
      await row(other?.name ?? '')
        .getByText(/^cooling/)
        .count(),
    ).toBe(0);
    first.reset();
    second.reset();
  });

  it('disables the first key', async () => {
    await row('primary').getByRole('button', { name: 'Edit primary' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the key primary' });
    await dialog.getByLabel('Enabled').uncheck();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row('primary').getByText('disabled').waitFor();
    await page.getByText('2 upstream keys (1 disabled)').waitFor();
    await browser.screenshot(page, 'project-keys');
  });

  it('shows the API’s refusal to disable or remove the last enabled key in the dialog that asked', async () => {
    const refusal = (what: string) =>
      `Cannot ${what} the key "backup": it is the project's last enabled upstream key. Add or enable another key first.`;
    await row('backup').getByRole('button', { name: 'Edit backup' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit the key backup' });
    await edit.getByLabel('Enabled').uncheck();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit
      .getByRole('alert')
      .filter({ hasText: refusal('disable') })
      .waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await edit.waitFor({ state: 'detached' });

    await row('backup').getByRole('button', { name: 'Remove backup' }).click();
    const remove = page.getByRole('dialog', { name: 'Remove the key backup?' });
    await remove.getByRole('button', { name: 'Remove key' }).click();
    await remove
      .getByRole('alert')
      .filter({ hasText: refusal('remove') })
      .waitFor();
    await browser.screenshot(page, 'project-keys-last-enabled');
    await remove.getByRole('button', { name: 'Cancel' }).click();
    expect((await keysByApi()).map((k) => [k.name, k.enabled])).toEqual([
      ['primary', false],
      ['backup', true],
    ]);
  });

  it('removes the first key; a proxied request then goes with the one left, its rotated secret', async () => {
    await row('primary').getByRole('button', { name: 'Remove primary' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove the key primary?' });
    await confirm.getByRole('button', { name: 'Remove key' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByText(/^1 upstream key ·/).waitFor();
    expect(await row('primary').count()).toBe(0);
    const [backup] = await keysByApi();
    expect(backup?.name).toBe('backup');

    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toContain('deterministic');
    expect({ first: first.stats().requests, second: second.stats().requests }).toEqual({ first: 0, second: 1 });
    const requestId = response.headers.get('x-llm-proxy-request-id');
    await s.server.runtime.usage.flush();
    const record = await s.manage('GET', `/usage/records/${requestId}`);
    expect(record.body.upstream_key_id).toBe(backup?.id);
    expect(browser.problems).toEqual([]);
  });

  it('purges the project’s cached responses: the next identical request goes upstream again', async () => {
    expect((await s.manage('PATCH', `/projects/${projectId}`, { cache_ttl_seconds: 300 })).status).toBe(200);
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 });
    const ask = () =>
      client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cache me' }] })
        .withResponse();
    const cacheStatus = async () => (await ask()).response.headers.get('cache-status') ?? '';
    const stored = () => s.server.runtime.responseCache.counts.stored;
    const s0 = stored();
    expect(await cacheStatus()).toBe('llm-proxy; fwd=uri-miss; stored');
    await until(() => stored() > s0);
    expect(await cacheStatus()).toMatch(/^llm-proxy; hit;/);
    const upstreamBefore = second.stats().requests;

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'pool' }).waitFor();
    await page.getByRole('button', { name: 'Purge cache' }).click();
    const confirm = page.getByRole('dialog', { name: 'Purge the cached responses of pool?' });
    await confirm.getByRole('button', { name: 'Purge cache' }).click();
    await page.getByText('1 cached response purged.').waitFor();
    await confirm.waitFor({ state: 'detached' });

    expect(await cacheStatus()).toBe('llm-proxy; fwd=uri-miss; stored');
    expect(second.stats().requests).toBe(upstreamBefore + 1);
    const purged = await s.manage('GET', `/audit?target_id=${projectId}&limit=5`);
    expect(purged.body.data.map((e: { action: string }) => e.action)).toContain('project.cache_purged');
    expect(browser.problems).toEqual([]);
  });
});
