/**
 * Single sign-on from the browser: the sign-in page offers it when OIDC_ISSUER is set; Chromium
 * follows the real authorization code flow (with PKCE) through a real OpenID Connect provider
 * (oidc-provider, started here) and lands in the UI signed in with the role the provider's claims
 * map to; an account that is not allowed comes back to the sign-in page with a clear message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, type BrowserSession, startBrowser } from '../helpers/browser.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

const hasChromium = await serviceAvailable('chromium');

describe.runIf(hasChromium)('admin UI single sign-on', () => {
  let idp: TestOidcProvider;
  let s: TestServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    idp = await startOidcProvider(
      {
        alice: { email: 'alice@example.com', email_verified: true, preferred_username: 'alice' },
        boss: { email: 'boss@corp.example', email_verified: true, preferred_username: 'boss', groups: ['llm-admins'] },
        mallory: { email: 'mallory@evil.example', email_verified: true },
      },
      () => `${s.url}/manage/oidc/callback`,
    );
    s = await startTestServer({
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: idp.clientId,
      OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_ALLOWED_EMAILS: 'alice@example.com',
      OIDC_ADMIN_GROUPS: 'llm-admins',
    });
    browser = await startBrowser(s.url);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await idp?.close();
  });

  async function sso(who: string) {
    idp.signInAs(who);
    await browser.context.clearCookies();
    const page = await browser.page();
    await page.goto(`${s.url}/admin/`);
    await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
    return page;
  }

  it('signs an allowed user in through the provider, with the role its claims give', async () => {
    const page = await sso('alice');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByTestId('who').filter({ hasText: 'alice' }).filter({ hasText: 'viewer' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/');
    await page.close();

    const admin = await sso('boss');
    await admin.getByTestId('who').filter({ hasText: 'admin' }).waitFor();
    expect(await admin.getByRole('link', { name: 'Users & sessions' }).count()).toBe(1);
    await admin.close();
  });

  it('brings a refused account back to the sign-in page with a clear message', async () => {
    const page = await sso('mallory');
    await page.getByRole('alert').filter({ hasText: 'your account is not allowed here' }).waitFor();
    // The error is said once: the address no longer carries it.
    expect(new URL(page.url()).search).toBe('');
    expect(await axeViolations(page)).toEqual([]);
    await browser.screenshot(page, 'sign-in-sso-refused');
    expect((await browser.context.cookies()).find((c) => c.name === 'llmp_session')).toBeUndefined();
    await page.close();
    expect(browser.problems).toEqual([]);
  });
});
