/**
 * The admin UI end to end in real headless Chromium: sign in with the management token, create a
 * project, issue a token, copy it, use it through the proxy (the UI's Try it page and the official
 * SDK, against the mock upstream), see the requests on the token page and the dashboard, revoke it
 * and see the proxy refuse it, delete the project. Screenshots of each page land in
 * test-results/screenshots/; no page may log an error or break the CSP.
 */
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { axeViolations, type BrowserSession, startBrowser } from '../helpers/browser.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

// Browser globals, for the callbacks that page.evaluate runs in the page (this file's own types are Node's).
declare const navigator: any;

const hasChromium = await serviceAvailable('chromium');

describe.runIf(hasChromium)('admin UI: from a new project to a revoked token', () => {
  let mock: MockUpstream;
  let s: TestServer;
  let browser: BrowserSession;
  let page: Page;
  let token = '';
  let tokenUrl = '';

  beforeAll(async () => {
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    s = await startTestServer({ OPENAI_API_URL: mock.url, USAGE_FLUSH_INTERVAL_MS: '20' });
    browser = await startBrowser(s.url);
    page = await browser.page();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await mock?.close();
  });

  const heading = (name: string) => page.getByRole('heading', { level: 1, name });

  it('signs in with the management token', async () => {
    await page.goto(`${s.url}/admin/`);
    await heading('Sign in').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Paste the management token.', { exact: true }).waitFor();
    await page.getByLabel('Management token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /Wrong/ }).waitFor();
    await page.getByLabel('Management token').fill(s.managementToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Dashboard').waitFor();
    await page.getByText('No traffic in this range').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'dashboard-empty');
  });

  it('creates a project, validating the key as the API does', async () => {
    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByText('No projects yet').waitFor();
    await page.getByRole('button', { name: 'New project' }).click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Name').fill('team-a');
    await dialog.getByLabel('Upstream API key').fill(' sk-with-a-space');
    await dialog.getByRole('button', { name: 'Create project' }).click();
    await dialog.getByText(/starts or ends with whitespace/).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'project-create');
    await dialog.getByLabel('Upstream API key').fill(UPSTREAM_KEY);
    await dialog.getByRole('button', { name: 'Create project' }).click();
    await heading('team-a').waitFor();
    const list = await s.manage('GET', '/projects');
    expect(list.body.data.map((p: { name: string }) => p.name)).toEqual(['team-a']);
  });

  it('issues a token, shown once, and copies it', async () => {
    await page.getByRole('link', { name: 'Issue a token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Issue a token' });
    await dialog.getByLabel('Name', { exact: true }).fill('ci');
    await dialog.getByLabel('Request cap (lifetime)').fill('50');
    await dialog.getByLabel('Budget (USD)').fill('5');
    await dialog.getByRole('button', { name: 'Issue token' }).click();
    const shown = page.getByRole('dialog', { name: 'Your new token' });
    token = (await shown.getByTestId('new-token').textContent()) ?? '';
    registerSecret(token);
    expect(token).toMatch(/^sk-llmp-/);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'token-created');
  });

  it('uses the token through the proxy from the Try it page and from the SDK', async () => {
    await page.getByRole('dialog', { name: 'Your new token' }).getByRole('button', { name: 'Try it now' }).click();
    await heading('Try it').waitFor();
    expect(await page.getByLabel('Proxy token').inputValue()).toBe(token);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('try-reply').filter({ hasText: 'deterministic reply' }).waitFor();
    await page.getByTestId('try-usage').waitFor();
    await page.getByTestId('try-headers').filter({ hasText: 'x-llm-proxy-request-id' }).waitFor();
    await page
      .getByTestId('try-recorded')
      .filter({ hasText: /Recorded: request 1 of this token, costing \$0\.0000\d+/ })
      .waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'try-it');

    // The copied token works in the official client as it is.
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 });
    const reply = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.choices[0]?.message.content).toContain('deterministic');
  });

  it('shows the requests on the token page, live, and on the dashboard', async () => {
    await page.getByRole('link', { name: 'Tokens' }).click();
    await heading('Tokens').waitFor();
    await page.getByRole('link', { name: 'ci', exact: true }).click();
    await heading('ci').waitFor();
    tokenUrl = page.url();
    // Two requests against a cap of 50: the page polls, so it shows 48 once the writer has counted both.
    await page.getByTestId('remaining-requests').filter({ hasText: '48' }).waitFor();
    await page
      .getByTestId('token-usage')
      .filter({ hasText: /^Requests2 / })
      .waitFor();
    // Two short replies cost a few micro-dollars of the $5 budget (shown to the nano-dollar).
    await page
      .getByTestId('budget-left')
      .filter({ hasText: /\$0\.0000[1-9]\d* of \$5\.00 lifetime/ })
      .waitFor();
    expect(await page.getByTestId('time-to-expiry').textContent()).toMatch(/23 h|1 d/);
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'token');

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page
      .getByTestId('stat-requests')
      .filter({ hasText: /^Requests2/ })
      .waitFor();
    await page.getByRole('img', { name: /Requests and errors per hour/ }).waitFor();
    await page.getByRole('link', { name: 'team-a', exact: true }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'dashboard');
  });

  it('revokes the token, and the proxy refuses it', async () => {
    // A reload keeps the sign-in: the session is a cookie, not something the page held.
    await page.goto(tokenUrl);
    await heading('ci').waitFor();
    await page.getByRole('button', { name: 'Revoke' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke this token?' });
    await confirm.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByText('revoked', { exact: true }).first().waitFor();
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it('deletes the project after a confirmation that names what happens to its tokens', async () => {
    await page.getByRole('link', { name: 'team-a', exact: true }).click();
    await heading('team-a').waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete team-a?' });
    await confirm.getByText(/all its tokens/).waitFor();
    await browser.screenshot(page, 'project-delete');
    await confirm.getByRole('button', { name: 'Delete project' }).click();
    await page.getByText('No projects yet').waitFor();
    expect((await s.manage('GET', '/projects')).body.data).toEqual([]);
    expect(browser.problems).toEqual([]);
  });
});
