/**
 * Sign-in and roles from the browser (real Chromium), against the management API's sessions: a user
 * signs in with a password and the management token with a session; the cookie is HttpOnly and
 * SameSite=Strict, unreadable by the page; wrong credentials are refused, then rate limited; a
 * change without the CSRF token is refused; a viewer sees no way to change anything and the API
 * refuses when it tries; signing out ends the session on the server.

 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, type BrowserSession, startBrowser } from '../helpers/browser.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

// Browser globals, for the callbacks that page.evaluate runs in the page (this file's own types are Node's).
declare const document: any;
declare const fetch: any;

const hasChromium = await serviceAvailable('chromium');
const PASSWORD = 'correct-horse-battery-staple';
const ATTEMPTS = 3;

describe.runIf(hasChromium)('admin UI sign-in and roles', () => {
  let s: TestServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    s = await startTestServer({
      ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE: String(ATTEMPTS),
      MANAGE_RATE_LIMIT_PER_MINUTE: '0',
    });
    for (const [username, role] of [
      ['ada', 'admin'],
      ['otto', 'operator'],
      ['vic', 'viewer'],
    ]) {
      const r = await s.manage('POST', '/users', { username, role, password: PASSWORD });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    await s.manage('POST', '/projects', { name: 'team-a', api_key: UPSTREAM_KEY });
    registerSecret(PASSWORD);
    browser = await startBrowser(s.url);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  /** A page without the previous sign-in's cookie (one profile per browser: a second user needs a second browser). */
  async function freshPage(b = browser): Promise<Page> {
    await b.context.clearCookies();
    return b.page();
  }

  async function signIn(username: string, password = PASSWORD, b = browser): Promise<Page> {
    const page = await freshPage(b);
    await page.goto(`${s.url}/admin/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  const sessionCookie = async (page: Page) => (await page.context().cookies()).find((c) => c.name === 'llmp_session');

  it('signs a user in with a password: HttpOnly, SameSite=Strict cookie the page cannot read; a reload keeps the session', async () => {
    const page = await freshPage();
    await page.goto(`${s.url}/admin/`);
    await page.getByLabel('Username').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'sign-in-password');
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const cookie = await sessionCookie(page);
    // Path=/manage: the browser never sends it with a /v1 request, which the proxy forwards upstream.
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/manage' });
    registerSecret(cookie?.value);
    expect(await page.evaluate(() => document.cookie)).not.toContain('llmp_session');
    await page.reload();
    await page.getByTestId('who').filter({ hasText: 'ada' }).filter({ hasText: 'admin' }).waitFor();
    await page.close();
  });

  it('signs in with the management token into a session too', async () => {
    const page = await freshPage();
    await page.goto(`${s.url}/admin/`);
    await page.getByRole('button', { name: 'Use the management token' }).click();
    await page.getByLabel('Management token').fill(s.managementToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.reload();
    await page.getByTestId('who').filter({ hasText: 'management token' }).waitFor();
    await page.close();
  });

  it('shows a viewer no way to change anything, and the API refuses when the page tries', async () => {
    const page = await signIn('vic');
    await page.getByTestId('who').filter({ hasText: 'viewer' }).waitFor();
    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: 'team-a' }).waitFor();
    expect(await page.getByRole('button', { name: 'New project' }).count()).toBe(0);
    // The project's upstream keys: the table, without a way to add, edit, rotate or remove one.
    await page.getByRole('link', { name: 'team-a' }).click();
    const keys = page.getByRole('region', { name: 'Upstream keys' });
    await keys.getByText('primary', { exact: true }).waitFor();
    expect(await keys.getByRole('button').count()).toBe(0);
    await page.getByRole('link', { name: 'Tokens', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Tokens' }).waitFor();
    expect(await page.getByRole('button', { name: 'Issue token' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Users & sessions' }).count()).toBe(0);
    await browser.screenshot(page, 'tokens-viewer');
    // With its own cookie and a valid CSRF token the page still cannot: the API decides, not the buttons.
    const csrf = await page.evaluate(async () => (await (await fetch('/manage/session')).json()).csrf_token);
    const status = await page.evaluate(
      async (token: string) =>
        (
          await fetch('/manage/projects', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': token },
            body: JSON.stringify({ name: 'sneaky', api_key: 'sk-sneaky-0000' }),
          })
        ).status,
      csrf,
    );
    expect(status).toBe(403);
    expect((await s.manage('GET', '/projects')).body.data.map((p: { name: string }) => p.name)).toEqual(['team-a']);
    await page.close();
  });

  it('refuses a change made with the cookie but without the CSRF token', async () => {
    const page = await signIn('otto');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const reply = await page.evaluate(async () => {
      const r = await fetch('/manage/tokens/revoke', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ expired: true }),
      });
      return { status: r.status, code: (await r.json()).error.code };
    });
    expect(reply).toEqual({ status: 403, code: 'csrf_token_invalid' });
    await page.close();
  });

  it('ends the session on the server at sign-out: the old cookie no longer works', async () => {
    const page = await signIn('otto');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const cookie = (await sessionCookie(page))?.value as string;
    registerSecret(cookie);
    const before = await fetch(`${s.url}/manage/projects`, { headers: { cookie: `llmp_session=${cookie}` } });
    expect(before.status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    const after = await fetch(`${s.url}/manage/projects`, { headers: { cookie: `llmp_session=${cookie}` } });
    expect(after.status).toBe(401);
    expect((await after.json()).error.code).toBe('session_expired');
    await page.close();
  });

  it('lets an admin see users and end another browser’s session', async () => {
    const second = await startBrowser(s.url);
    const other = await signIn('otto', PASSWORD, second);
    await other.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const page = await signIn('ada');
    await page.getByRole('link', { name: 'Users & sessions' }).click();
    await page
      .getByRole('region', { name: 'Users', exact: true })
      .getByRole('cell', { name: 'vic', exact: true })
      .waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'users');
    // The row of the other browser's session: its id hint is the cookie's last four characters.
    const otherCookie = (await second.context.cookies()).find((c) => c.name === 'llmp_session')?.value as string;
    registerSecret(otherCookie);
    const row = page.getByRole('row').filter({ hasText: `…${otherCookie.slice(-4)}` });
    await row.getByRole('button', { name: 'End' }).click();
    await page.getByRole('dialog', { name: 'End this session?' }).getByRole('button', { name: 'End session' }).click();
    await page.getByText('Session ended.').waitFor();
    // The other browser is signed out at its next request.
    await other.getByRole('link', { name: 'Projects' }).click();
    await other.getByText('You were signed out. Sign in again to continue.').waitFor();
    await second.close();
    await page.close();
    expect([...browser.problems, ...second.problems]).toEqual([]);
  });
  // Last: the limit counts failures per address too, and every browser here is 127.0.0.1.
  it('refuses wrong credentials, then rate limits, with a clear message', async () => {
    const page = await signIn('otto', 'wrong-password-1');
    await page.getByRole('alert').filter({ hasText: 'Wrong username, password or token.' }).waitFor();
    for (let i = 1; i < ATTEMPTS; i++) {
      await page.getByLabel('Password').fill(`wrong-password-${i + 1}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong' }).waitFor();
    }
    // Over the limit even the right password waits for the minute to end.
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /Too many requests\. Try again in \d+ s\./ })
      .waitFor();
    expect(await sessionCookie(page)).toBeUndefined();
    await page.close();
  });
});
