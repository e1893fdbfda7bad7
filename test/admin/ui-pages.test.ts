/**
 * Every page of the admin UI with data in it, in light and dark themes and on a phone-sized screen:
 * axe-core finds no serious or critical violation, nothing overflows sideways on the phone, no page
 * logs an error or breaks the CSP, the theme follows the system and the toggle, and the keyboard
 * reaches the content. Screenshots of each page and variant go to test-results/screenshots/.
 */
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { axeViolations, type BrowserSession, startBrowser } from '../helpers/browser.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { writeRollupHistory } from '../helpers/usage-history.js';

// Browser globals, for the callbacks that page.evaluate runs in the page (this file's own types are Node's).
declare const document: any;
declare const window: any;
declare const history: any;
declare const dispatchEvent: any;
declare const PopStateEvent: any;
declare const localStorage: any;
declare const getComputedStyle: any;

const hasChromium = await serviceAvailable('chromium');

describe.runIf(hasChromium)('admin UI pages', () => {
  let mock: MockUpstream;
  let s: TestServer;
  let browser: BrowserSession;
  const ids: Record<string, string> = {};

  /** Projects, tokens in several states, usage across models, a price override: pages with something to show. */
  async function seed(): Promise<void> {
    const project = async (name: string, extra: object = {}) => {
      const r = await s.manage('POST', '/projects', { name, api_key: UPSTREAM_KEY, ...extra });
      return r.body.id as string;
    };
    ids.web = await project('web-frontend', { budget_usd: 250, budget_period: 'month', requests_per_minute: 600 });
    ids.data = await project('data-pipeline');
    await project('research-sandbox', { is_active: false });
    const issue = async (body: object) =>
      (await s.manage('POST', '/tokens', body)).body as { id: string; token: string };
    const ci = await issue({
      project_id: ids.web,
      name: 'ci-main',
      duration_minutes: 60 * 24 * 30,
      max_requests: 5000,
      budget_usd: 20,
    });
    const nightly = await issue({ project_id: ids.data, name: 'nightly-etl', duration_minutes: 60 * 24 * 3 });
    const notebook = await issue({ project_id: ids.data, name: 'notebook', max_requests: 2 });
    const old = await issue({ project_id: ids.web, name: 'old-staging' });
    await s.manage('POST', '/tokens/batch', {
      project_id: ids.web,
      count: 3,
      name_prefix: 'workshop',
      duration_minutes: 480,
    });
    ids.token = ci.id;
    const call = async (tok: string, model: string, n: number) => {
      const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: tok, maxRetries: 0 });
      for (let i = 0; i < n; i++)
        await c.chat.completions.create({ model, messages: [{ role: 'user', content: `hello ${i}` }] });
    };
    await call(ci.token, 'gpt-4o', 6);
    await call(ci.token, 'gpt-4o-mini', 4);
    await call(nightly.token, 'gpt-4.1-mini', 5);
    await call(notebook.token, 'gpt-4o-mini', 2);
    await s.manage('DELETE', `/tokens/${old.id}`);
    // A second upstream key (after the traffic above, which it could not serve): the keys table shows two rows.
    const second = await s.manage('POST', `/projects/${ids.web}/keys`, {
      name: 'azure-eastus',
      api_key: 'azure-0123456789abcdef0123456789abcdef',
      base_url: 'https://example-eastus.openai.azure.com/openai/v1',
      auth_style: 'api-key',
      weight: 3,
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    await s.manage('PUT', '/pricing/llama-3-local', { input: 0.2, output: 0.6 });
    await s.server.runtime.usage.flush();
    // A month of earlier traffic, up to the hour before this one, so the charts have a history.
    const db = s.server.runtime.config.database;
    if (db.kind !== 'sqlite') throw new Error('expected SQLite');
    writeRollupHistory(db.path, {
      tokens: [
        { id: ci.id, projectId: ids.web as string },
        { id: nightly.id, projectId: ids.data as string },
      ],
      models: ['gpt-4o', 'gpt-4o-mini'],
      hours: 30 * 24,
      end: Date.now() - 3_600_000,
      perHour: 3,
    });
  }

  beforeAll(async () => {
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    s = await startTestServer({ OPENAI_API_URL: mock.url, USAGE_FLUSH_INTERVAL_MS: '20' });
    await seed();
    browser = await startBrowser(s.url);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await mock?.close();
  });

  async function signedIn(opts: { width?: number; height?: number; dark?: boolean } = {}): Promise<Page> {
    // Each page signs in afresh (with server sessions, the last sign-in's cookie would skip the form).
    await browser.context.clearCookies();
    const page = await browser.page(opts);
    await page.goto(`${s.url}/admin/`);
    await page.getByLabel('Management token').fill(s.managementToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    return page;
  }

  /** In-page navigation (a reload would forget a pasted management token, by design). */
  async function go(page: Page, path: string): Promise<void> {
    await page.evaluate((p) => {
      history.pushState(null, '', p);
      dispatchEvent(new PopStateEvent('popstate'));
    }, `/admin${path}`);
  }

  const PAGES: Array<{ name: string; path: () => string; ready: (p: Page) => Promise<void> }> = [
    {
      name: 'dashboard',
      path: () => '/?range=7d',
      ready: (p) => p.getByRole('link', { name: /^ci-main/ }).waitFor(),
    },
    {
      name: 'projects',
      path: () => '/projects',
      ready: (p) => p.getByRole('link', { name: 'research-sandbox' }).waitFor(),
    },
    {
      name: 'project',
      path: () => `/projects/${ids.web}`,
      ready: async (p) => {
        await p.getByRole('link', { name: 'ci-main' }).waitFor();
        await p.getByRole('region', { name: 'Upstream keys' }).getByText('azure-eastus', { exact: true }).waitFor();
      },
    },
    { name: 'tokens', path: () => '/tokens', ready: (p) => p.getByRole('link', { name: 'nightly-etl' }).waitFor() },
    {
      name: 'token',
      path: () => `/tokens/${ids.token}`,
      ready: (p) => p.getByTestId('remaining-requests').filter({ hasText: '4,990' }).waitFor(),
    },
    { name: 'audit', path: () => '/audit', ready: (p) => p.getByText('pricing.set').first().waitFor() },
    { name: 'pricing', path: () => '/pricing', ready: (p) => p.getByText('llama-3-local').waitFor() },
    {
      name: 'users',
      path: () => '/users',
      ready: (p) => p.getByRole('heading', { level: 1, name: 'Users and sessions' }).waitFor(),
    },
    { name: 'try-it', path: () => '/try', ready: (p) => p.getByLabel('Proxy token').waitFor() },
    {
      name: 'help',
      path: () => '/help',
      ready: (p) =>
        p
          .getByTestId('snippet')
          .filter({ hasText: `${s.url}/v1` })
          .waitFor(),
    },
  ];

  for (const variant of ['light', 'dark', 'phone'] as const) {
    it(`every page in the ${variant === 'phone' ? 'phone-sized, light' : `${variant} desktop`} layout passes axe and shows its data`, async () => {
      const page = await signedIn(variant === 'phone' ? { width: 390, height: 844 } : { dark: variant === 'dark' });
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(
        variant === 'dark' ? 'dark' : 'light',
      );
      for (const p of PAGES) {
        await go(page, p.path());
        await p.ready(page);
        // Charts draw on the next frame; wait for them to exist before checking and photographing.
        await page.waitForFunction(
          () => document.querySelectorAll('.chart').length === document.querySelectorAll('.chart canvas').length,
        );
        expect({ page: p.name, violations: await axeViolations(page) }).toEqual({ page: p.name, violations: [] });
        if (variant === 'phone') {
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          if (overflow > 0) {
            console.log(
              await page.evaluate(() =>
                [...document.querySelectorAll('body *')]
                  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
                  .slice(0, 8)
                  .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
                  .join('\n'),
              ),
            );
          }
          expect({ page: p.name, overflow }).toEqual({ page: p.name, overflow: 0 });
        }
        await browser.screenshot(page, `${p.name}-${variant}`);
      }
      await page.close();
      expect(browser.problems).toEqual([]);
    });
  }

  it('shows the API’s own message when it refuses, in the dialog that asked', async () => {
    const page = await signedIn();
    await go(page, '/projects');
    await page.getByRole('button', { name: 'New project' }).click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Name').fill('web-frontend');
    await dialog.getByLabel('Upstream API key').fill(UPSTREAM_KEY);
    await dialog.getByRole('button', { name: 'Create project' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'A project named "web-frontend" already exists.' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });

  it('opens the menu on a phone and reaches every page from it', async () => {
    const page = await signedIn({ width: 390, height: 844 });
    const nav = page.getByRole('navigation', { name: 'Pages' });
    expect(await nav.isVisible()).toBe(false);
    expect(await page.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Open the menu' }).click();
    await nav.getByRole('link', { name: 'Pricing' }).click();
    await page.getByRole('heading', { level: 1, name: 'Pricing' }).waitFor();
    await page.waitForFunction(() => document.querySelector('.shell')?.getAttribute('data-menu') === 'closed');
    await page.close();
  });

  it('is usable from the keyboard: a skip link first, focus visible, dialogs trap and return focus', async () => {
    const page = await signedIn();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await go(page, '/projects');
    await page.getByRole('link', { name: 'web-frontend' }).waitFor();
    const button = page.getByRole('button', { name: 'New project' });
    await button.focus();
    const outline = await button.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.name)).toBe('name');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.close();
  });
  it('follows the system theme and switches with the toggle', async () => {
    const page = await signedIn({ dark: true });
    const theme = (t: string) => page.waitForFunction((want) => document.documentElement.dataset.theme === want, t);
    await theme('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await theme('light');
    await page.getByRole('button', { name: 'System theme' }).last().click();
    await page.getByRole('button', { name: 'Light theme' }).last().click();
    await theme('dark');
    // A chosen theme holds against the system's, also after a reload (it is a preference, kept in localStorage).
    await page.emulateMedia({ colorScheme: 'light' });
    await page.reload();
    await theme('dark');
    expect(await page.evaluate(() => localStorage.getItem('llmp-theme'))).toBe('dark');
    await page.evaluate(() => localStorage.clear());
    await page.close();
  });
});
