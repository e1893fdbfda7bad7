import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, stackOn } from '../audit/helpers.js';
import { DIALECTS, sqliteDatabase } from '../helpers/databases.js';
import { browse, CookieJar, startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { call } from '../helpers/session.js';

const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, preferred_username: 'alice' },
  boss: { email: 'boss@corp.example', email_verified: true, groups: ['staff', 'llm-admins'] },
  dora: { email: 'Dora@Allowed.example', email_verified: true },
  mallory: { email: 'mallory@evil.example', email_verified: true, groups: ['staff'] },
  sly: { email: 'unverified@example.com', email_verified: false },
  // In an allowed domain, but not verified by the standard's boolean: a string, or no claim at all.
  stringy: { email: 'stringy@allowed.example', email_verified: 'false' },
  texty: { email: 'texty@allowed.example', email_verified: 'true' },
  silent: { email: 'silent@allowed.example' },
};

/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider) started here: the
 * authorization code flow with PKCE through every redirect, users let in by email, domain or group
 * and refused otherwise, a state that does not match, an error from the provider. On both stores.
 */
describe.each(DIALECTS)('OIDC sign-in on %s', (_name, make) => {
  let idp: TestOidcProvider;
  const env: Record<string, string> = {};
  beforeAll(async () => {
    idp = await startOidcProvider(ACCOUNTS, () => `${stack.st.url}/manage/oidc/callback`);
    Object.assign(env, {
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: idp.clientId,
      OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_ALLOWED_EMAILS: 'alice@example.com, @allowed.example, unverified@example.com',
      OIDC_ADMIN_GROUPS: 'llm-admins',
      OIDC_OPERATOR_GROUPS: 'llm-operators',
    });
  });
  // Registered after the provider's hook, so the stack starts with its settings.
  const stack = stackOn(make, { env });
  afterAll(async () => idp?.close());

  const isAdminUi = (u: URL) => u.origin === stack.st.url && u.pathname === '/admin/';

  /** Signs in at the provider as `who`; the jar, every hop and where the browser was sent in the end. */
  async function sso(who: string, opts: Parameters<typeof browse>[2] = {}) {
    idp.signInAs(who);
    const jar = new CookieJar();
    const { hops, last } = await browse(jar, `${stack.st.url}/manage/oidc/login`, { stopAt: isAdminUi, ...opts });
    const cookie = jar.get('llmp_session');
    if (cookie) registerSecret(cookie);
    return { jar, hops, last, cookie, landed: last.headers.get('location') };
  }

  it('offers single sign-on', async () => {
    expect((await call(stack.st.url, 'GET', '/auth-methods')).body).toMatchObject({ oidc: true });
  });

  it('signs in an allowed email through the real code flow with PKCE, as a viewer', async () => {
    const { hops, cookie, landed, last } = await sso('alice');
    // First hop: to the provider, with PKCE S256, state and nonce, and a sealed, HttpOnly, Lax state cookie.
    const auth = new URL(hops[0]?.location as string);
    expect(auth.origin).toBe(idp.issuer);
    expect(Object.fromEntries(auth.searchParams)).toMatchObject({
      client_id: idp.clientId,
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      redirect_uri: `${stack.st.url}/manage/oidc/callback`,
    });
    for (const p of ['state', 'nonce', 'code_challenge'])
      expect(auth.searchParams.get(p)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The callback sets the session cookie and sends the browser to the admin UI.
    expect(landed).toBe('/admin/');
    expect(last.status).toBe(302);
    expect(last.headers.getSetCookie().find((c) => c.startsWith('llmp_session='))).toMatch(
      /; Path=\/manage; Max-Age=43200; HttpOnly; SameSite=Strict$/,
    );
    const me = await call(stack.st.url, 'GET', '/me', undefined, { cookie: `llmp_session=${cookie}` });
    expect(me.body).toMatchObject({
      user: { id: 'oidc:alice', username: 'alice@example.com', role: 'viewer' },
      auth_method: 'oidc',
    });
    // A viewer, enforced by the API.
    const change = await call(stack.st.url, 'DELETE', `/tokens/${stack.st.tokenId}`, undefined, {
      cookie: `llmp_session=${cookie}`,
      'x-csrf-token': me.body.csrf_token,
    });
    expect(change.body.error.code).toBe('insufficient_role');
    const [event] = await auditEvents(stack.st.s, { action: 'session.signed_in', actor: 'user:oidc:alice' });
    expect(event?.details).toMatchObject({
      method: 'oidc',
      username: 'alice@example.com',
      role: 'viewer',
      subject: 'alice',
    });
  });

  it('maps groups to roles, and lets in a whole allowed domain', async () => {
    const boss = await sso('boss');
    const dora = await sso('dora');
    const who = async (cookie: string | undefined) =>
      (await call(stack.st.url, 'GET', '/me', undefined, { cookie: `llmp_session=${cookie}` })).body.user;
    expect(await who(boss.cookie)).toEqual({ id: 'oidc:boss', username: 'boss@corp.example', role: 'admin' });
    expect(await who(dora.cookie)).toEqual({ id: 'oidc:dora', username: 'dora@allowed.example', role: 'viewer' });
  });

  it('refuses a user no rule lets in, and an allowed address the provider did not verify with email_verified: true', async () => {
    for (const who of ['mallory', 'sly', 'stringy', 'texty', 'silent']) {
      const { cookie, landed } = await sso(who);
      expect(landed).toBe('/admin/?sign_in_error=oidc_not_allowed');
      expect(cookie).toBeUndefined();
    }
    const failed = await auditEvents(stack.st.s, { action: 'session.sign_in_failed' });
    expect(failed.filter((e) => e.details?.reason === 'not_allowed').map((e) => e.details)).toEqual([
      { method: 'oidc', reason: 'not_allowed', subject: 'mallory', email: 'mallory@evil.example', groups: ['staff'] },
      { method: 'oidc', reason: 'not_allowed', subject: 'sly', email: null, groups: [] },
      { method: 'oidc', reason: 'not_allowed', subject: 'stringy', email: null, groups: [] },
      { method: 'oidc', reason: 'not_allowed', subject: 'texty', email: null, groups: [] },
      { method: 'oidc', reason: 'not_allowed', subject: 'silent', email: null, groups: [] },
    ]);
    // A client that asked for JSON gets the error itself.
    const json = await sso('mallory', { accept: 'application/json' });
    expect(json.last.status).toBe(403);
    expect(((await json.last.json()) as { error: { code: string } }).error.code).toBe('oidc_not_allowed');
  });

  it('refuses a callback whose state does not match, or that comes without the sign-in cookie', async () => {
    const tampered = await sso('alice', {
      rewrite: (u) => {
        if (u.pathname === '/manage/oidc/callback') u.searchParams.set('state', 'forged-state-forged-state');
        return u;
      },
    });
    expect(tampered.landed).toBe('/admin/?sign_in_error=oidc_state_invalid');
    expect(tampered.cookie).toBeUndefined();

    // A callback URL with a real code, replayed by a browser that never started the sign-in.
    let callback = '';
    await sso('alice', {
      stopAt: (u) => {
        if (u.pathname !== '/manage/oidc/callback') return false;
        callback = u.href;
        return true;
      },
    });
    const res = await call(stack.st.url, 'GET', callback.slice(`${stack.st.url}/manage`.length));
    expect([res.status, res.body.error.code]).toEqual([400, 'oidc_state_invalid']);
    expect(res.body.error.message).toMatch(/no sign-in in progress in this browser/);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('llmp_session='))).toBe(false);
  });

  it('accepts a callback once: the same one again, or two at once, is refused before the code is exchanged', async () => {
    /** A sign-in up to the provider's redirect back: the callback URL and the browser's sign-in cookie. */
    async function pendingCallback() {
      let callback: URL | undefined;
      const { jar } = await sso('alice', {
        stopAt: (u) => {
          if (u.pathname !== '/manage/oidc/callback') return false;
          callback = u;
          return true;
        },
      });
      const url = callback as URL;
      const headers = { cookie: jar.header(url), accept: 'application/json' };
      return async () => {
        const res = await fetch(url, { redirect: 'manual', headers });
        const session = res.headers.getSetCookie().find((c) => c.startsWith('llmp_session='));
        if (session) registerSecret(session.slice('llmp_session='.length).split(';')[0] as string);
        const body = res.status === 302 ? res.headers.get('location') : ((await res.json()) as any).error.code;
        return [res.status, body, session !== undefined];
      };
    }
    const exchanged = idp.tokenRequests();
    const callback = await pendingCallback();
    expect(await callback()).toEqual([302, '/admin/', true]);
    expect(await callback()).toEqual([400, 'oidc_state_invalid', false]);
    expect(idp.tokenRequests()).toBe(exchanged + 1);

    const twice = await pendingCallback();
    const outcomes = await Promise.all([twice(), twice()]);
    expect(outcomes.map(([status]) => status).sort()).toEqual([302, 400]);
    expect(idp.tokenRequests()).toBe(exchanged + 2);
    const replays = (await auditEvents(stack.st.s, { action: 'session.sign_in_failed' })).filter(
      (e) => e.details?.reason === 'oidc_state_invalid',
    );
    expect(replays.length).toBeGreaterThanOrEqual(2);
  });

  it("reports the provider's own refusal", async () => {
    idp.signInAs('alice');
    const jar = new CookieJar();
    const { hops } = await browse(jar, `${stack.st.url}/manage/oidc/login`, { stopAt: (u) => u.origin === idp.issuer });
    const state = new URL(hops[0]?.location as string).searchParams.get('state') as string;
    const url = new URL(
      `${stack.st.url}/manage/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`,
    );
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: jar.header(url), accept: 'application/json' },
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, body.error.code]).toEqual([502, 'oidc_provider_error']);
    expect(body.error.message).toMatch(/access_denied/);
  });
});

describe('OIDC not configured', () => {
  const stack = stackOn(async () => sqliteDatabase());
  it('answers 404 oidc_not_configured', async () => {
    for (const route of ['/oidc/login', '/oidc/callback?code=x&state=y']) {
      const res = await call(stack.st.url, 'GET', route);
      expect([res.status, res.body.error.code]).toEqual([404, 'oidc_not_configured']);
    }
  });
});
