import { describe, expect, it, onTestFinished } from 'vitest';
import type { UsersService } from '../../src/access/users-service.js';
import { auditEvents, stackOn } from '../audit/helpers.js';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS, sqliteDatabase } from '../helpers/databases.js';
import { until } from '../helpers/proxy.js';
import { call, signedIn, signIn, withSession } from '../helpers/session.js';

/** A client address of its own per test: the sign-in limiter counts per address (TRUST_PROXY believes X-Forwarded-For). */
let nextIp = 10;
const fromIp = () => ({ 'x-forwarded-for': `203.0.113.${nextIp++}` });

/** Sign-in with the token and with a password, wrong credentials, the limiter, the cookie's flags, CSRF, sign-out: on both stores. */
describe.each(DIALECTS)('sign-in on %s', (_name, make) => {
  const clock = manualClock();
  const stack = stackOn(make, {
    clock: clock.now,
    env: { TRUST_PROXY: 'true', ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE: '3' },
  });
  const url = () => stack.st.url;

  async function addUser(username: string, role: string, password = `pw-${username}-long-enough`) {
    const res = await stack.st.s.manage('POST', '/users', { username, role, password });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, username, password };
  }

  it('signs in with the management token: an admin session, an HttpOnly SameSite=Strict cookie, an audit event', async () => {
    const headers = fromIp();
    const { reply, session } = await signIn(url(), { token: stack.st.s.managementToken }, headers);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      session_id: expect.any(String),
      user: { id: 'management-token', username: 'management token', role: 'admin' },
      auth_method: 'token',
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      created_at: new Date(clock.now()).toISOString(),
      expires_at: new Date(clock.now() + 12 * 3_600_000).toISOString(),
      idle_expires_at: new Date(clock.now() + 30 * 60_000).toISOString(),
    });
    const s = session as NonNullable<typeof session>;
    // 32 random bytes, base64url; the cookie is not the CSRF token and the body does not hold it.
    expect(s.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.cookie).not.toBe(s.csrf);
    expect(JSON.stringify(reply.body)).not.toContain(s.cookie);
    const attrs = s.setCookie.split(';').map((p) => p.trim());
    expect(attrs).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/manage', `Max-Age=${12 * 3600}`]),
    );
    expect(attrs).not.toContain('Secure'); // plain http
    // The OpenAPI description tells the cookie as it is set: each attribute, and no other value.
    const spec = await stack.st.s.manage('GET', '/openapi.json');
    const description: string = spec.body.paths['/manage/session'].post.description;
    const told = (/`llmp_session` cookie \(([^)]*)\)/.exec(description)?.[1] ?? '').split(',').map((t) => t.trim());
    for (const attr of attrs.slice(1)) expect(told).toContainEqual(expect.stringMatching(`^${attr.split('=')[0]}\\b`));
    for (const pair of told.filter((t) => /^[\w-]+=\S+$/.test(t))) expect(attrs).toContain(pair);
    // The cookie works on the management API; GET /session and /me say who it is.
    expect((await withSession(url(), s, 'GET', '/projects')).status).toBe(200);
    for (const route of ['/session', '/me']) {
      const me = await withSession(url(), s, 'GET', route);
      expect(me.status).toBe(200);
      expect(me.body).toEqual(reply.body);
    }
    const [event] = (await auditEvents(stack.st.s, { action: 'session.signed_in' })).filter(
      (e) => e.target_id === reply.body.session_id,
    );
    expect(event).toMatchObject({
      actor_type: 'management-token',
      actor_id: null,
      client_ip: headers['x-forwarded-for'],
      target_type: 'session',
      details: { method: 'token', username: 'management token', role: 'admin' },
    });
  });

  it('signs in with a username and password (any case), as that user, recording when', async () => {
    const alice = await addUser('alice', 'operator');
    const session = await signedIn(url(), { username: 'Alice', password: alice.password }, fromIp());
    expect(session.body.user).toEqual({ id: alice.id, username: 'alice', role: 'operator' });
    expect(session.body.auth_method).toBe('password');
    const user = await stack.st.s.manage('GET', `/users/${alice.id}`);
    expect(user.body.last_sign_in_at).toBe(new Date(clock.now()).toISOString());
    const events = await auditEvents(stack.st.s, { action: 'session.signed_in', actor: `user:${alice.id}` });
    expect(events.map((e) => e.details)).toEqual([{ method: 'password', username: 'alice', role: 'operator' }]);
    // What an operator may do, it does with its cookie; the audit trail names the user.
    const token = await withSession(url(), session, 'POST', '/tokens', { project_id: stack.st.projectId });
    expect(token.status).toBe(201);
    const created = await auditEvents(stack.st.s, { action: 'token.created', target_id: token.body.id });
    expect(created.map((e) => [e.actor_type, e.actor_id])).toEqual([['user', alice.id]]);
  });

  it('refuses wrong credentials with one answer, audits each failure, then limits the address and the username', async () => {
    const bob = await addUser('bob', 'viewer');
    const ip = fromIp();
    const wrong = [
      { token: 'not-the-management-token-at-all' },
      { username: 'bob', password: 'wrong-password-123' },
      { username: 'nobody-here', password: 'wrong-password-123' },
    ];
    for (const credentials of wrong) {
      const { reply, session } = await signIn(url(), credentials, ip);
      expect([reply.status, reply.body.error.code, session]).toEqual([401, 'invalid_credentials', undefined]);
      expect(reply.body.error.message).toBe('Wrong credentials.');
      expect(reply.headers.get('set-cookie')).toBeNull();
    }
    // The fourth attempt from that address is refused before the credentials are looked at, even right ones.
    const limited = await signIn(url(), { username: 'bob', password: bob.password }, ip);
    expect([limited.reply.status, limited.reply.body.error.code]).toEqual([429, 'sign_in_rate_limited']);
    expect(Number(limited.reply.headers.get('retry-after'))).toBe(60);
    expect((await signIn(url(), { token: stack.st.s.managementToken }, ip)).reply.status).toBe(429);
    // Another address may still sign in.
    expect((await signIn(url(), { token: stack.st.s.managementToken }, fromIp())).reply.status).toBe(200);

    // A username takes failures from every address: with the one above, two more from two others lock bob out.
    for (let i = 0; i < 2; i++)
      expect((await signIn(url(), { username: 'bob', password: `wrong-password-${i}xx` }, fromIp())).reply.status).toBe(
        401,
      );
    expect((await signIn(url(), { username: 'bob', password: bob.password }, fromIp())).reply.status).toBe(429);

    clock.advance(60_000);
    expect((await signIn(url(), { username: 'bob', password: bob.password }, ip)).reply.status).toBe(200);

    const failures = (await auditEvents(stack.st.s, { action: 'session.sign_in_failed' })).filter(
      (e) => e.client_ip === ip['x-forwarded-for'],
    );
    expect(failures.map((e) => [e.actor_type, e.target_id, e.details])).toEqual([
      ['anonymous', null, { method: 'token', reason: 'wrong_token' }],
      ['anonymous', bob.id, { method: 'password', reason: 'wrong_password', username: 'bob' }],
      // An unknown username is not kept (it may be a password typed in the wrong field).
      ['anonymous', null, { method: 'password', reason: 'unknown_user' }],
      ['anonymous', null, { method: 'password', reason: 'rate_limited' }],
      ['anonymous', null, { method: 'token', reason: 'rate_limited' }],
    ]);
    // No credential that was tried is in the trail.
    const trail = JSON.stringify(await auditEvents(stack.st.s));
    for (const c of wrong) for (const v of Object.values(c)) if (v !== 'bob') expect(trail).not.toContain(v);
    expect(trail).not.toContain(bob.password);
  });

  /**
   * Holds every password check of the server until released: the attempts a test sends are all in
   * flight together, however fast the machine checks (the suite's scrypt cost takes a millisecond).
   * `checked` counts the checks begun, whatever the limiter let through.
   */
  function holdPasswordChecks() {
    const users: UsersService = stack.st.s.server.runtime.access.users;
    const verify = users.verify.bind(users);
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = {
      checked: 0,
      release,
    };
    users.verify = async (username, password) => {
      held.checked += 1;
      await released;
      return verify(username, password);
    };
    onTestFinished(() => {
      release();
      delete (users as { verify?: unknown }).verify; // the class's own again
    });
    return held;
  }

  /** Sends the attempts at once; resolves when each has been answered or is being checked. */
  async function inFlight(held: { checked: number }, attempts: { username: string; password: string; ip: string }[]) {
    const before = held.checked;
    let answered = 0;
    const replies = attempts.map(async ({ ip, ...credentials }) => {
      const { reply } = await signIn(url(), credentials, { 'x-forwarded-for': ip });
      answered += 1;
      return [reply.status, reply.body?.error?.code ?? null];
    });
    await until(() => held.checked - before + answered >= attempts.length);
    return replies;
  }

  it('checks no more than the limit of passwords sent all at once for one username, then not even the right one', async () => {
    const dave = await addUser('dave', 'viewer');
    const held = holdPasswordChecks();
    // 40 wrong passwords from 40 addresses, all in flight; then the right one, while they are.
    const wrong = await inFlight(
      held,
      Array.from({ length: 40 }, (_, i) => ({
        username: 'dave',
        password: `wrong-guess-${i}-xxxx`,
        ip: fromIp()['x-forwarded-for'],
      })),
    );
    const right = await inFlight(held, [
      { username: 'DAVE', password: dave.password, ip: fromIp()['x-forwarded-for'] },
    ]);
    held.release();
    const outcomes = await Promise.all([...wrong, ...right]);
    const count = (status: number) => outcomes.filter(([s]) => s === status).length;
    expect([count(401), count(429), count(200)]).toEqual([3, 38, 0]);
    expect(held.checked).toBe(3);
    expect(await Promise.all(right)).toEqual([[429, 'sign_in_rate_limited']]);
    // Not only refused at once: still refused once the three failures are in.
    expect((await signIn(url(), { username: 'dave', password: dave.password }, fromIp())).reply.status).toBe(429);
    clock.advance(60_000);
    expect((await signIn(url(), { username: 'dave', password: dave.password }, fromIp())).reply.status).toBe(200);
  });

  it('checks no more than the limit of passwords sent all at once from one address, whatever the usernames', async () => {
    const erin = await addUser('erin', 'viewer');
    const held = holdPasswordChecks();
    const ip = fromIp()['x-forwarded-for'];
    const wrong = await inFlight(
      held,
      Array.from({ length: 30 }, (_, i) => ({ username: `user-${i}`, password: `wrong-guess-${i}-xxxx`, ip })),
    );
    const right = await inFlight(held, [{ username: 'erin', password: erin.password, ip }]);
    held.release();
    const outcomes = await Promise.all([...wrong, ...right]);
    expect(outcomes.filter(([s]) => s === 401).length).toBe(3);
    expect(held.checked).toBe(3);
    expect(await Promise.all(right)).toEqual([[429, 'sign_in_rate_limited']]);
    expect((await signIn(url(), { username: 'erin', password: erin.password }, fromIp())).reply.status).toBe(200);
    clock.advance(60_000);
  });

  it('counts no failure for a right password: it is counted while checked, then given back', async () => {
    const fay = await addUser('fay', 'viewer');
    const attempt = async (password: string) =>
      (await signIn(url(), { username: 'fay', password }, fromIp())).reply.status;
    expect([await attempt('wrong-guess-1-xxxx'), await attempt('wrong-guess-2-xxxx')]).toEqual([401, 401]);
    expect(await attempt(fay.password)).toBe(200);
    expect(await attempt('wrong-guess-3-xxxx')).toBe(401); // the third failure
    expect(await attempt(fay.password)).toBe(429);
    clock.advance(60_000);
  });

  it('refuses a disabled user, and ends their sessions when they are disabled', async () => {
    const carol = await addUser('carol', 'viewer');
    const credentials = { username: carol.username, password: carol.password };
    const session = await signedIn(url(), credentials, fromIp());
    await stack.st.s.manage('PATCH', `/users/${carol.id}`, { disabled: true });
    expect((await withSession(url(), session, 'GET', '/projects')).body.error.code).toBe('session_expired');
    const { reply } = await signIn(url(), credentials, fromIp());
    expect([reply.status, reply.body.error.code]).toEqual([401, 'invalid_credentials']);
  });

  it('sets Secure when a trusted proxy says the browser is on https', async () => {
    const { session } = await signIn(
      url(),
      { token: stack.st.s.managementToken },
      {
        ...fromIp(),
        'x-forwarded-proto': 'https',
      },
    );
    expect(session?.setCookie.split(';').map((p) => p.trim())).toContain('Secure');
  });

  it('refuses a change made with the cookie but without the right CSRF token; reads need none', async () => {
    const s = await signedIn(url(), { token: stack.st.s.managementToken }, fromIp());
    const body = { name: 'csrf-project', api_key: 'sk-csrf-test-key-000000000' };
    for (const csrf of [null, 'wrong', `${s.csrf}x`, '']) {
      const res = await withSession(url(), s, 'POST', '/projects', body, { csrf });
      expect([res.status, res.body.error.code]).toEqual([403, 'csrf_token_invalid']);
    }
    // Another session's token is wrong too.
    const other = await signedIn(url(), { token: stack.st.s.managementToken }, fromIp());
    expect(
      (await withSession(url(), s, 'DELETE', `/tokens/${stack.st.tokenId}`, undefined, { csrf: other.csrf })).status,
    ).toBe(403);
    expect((await stack.st.s.manage('GET', `/tokens/${stack.st.tokenId}`)).body.is_active).toBe(true);
    const names = (await stack.st.s.manage('GET', '/projects')).body.data.map((p: { name: string }) => p.name);
    expect(names).not.toContain('csrf-project');
    const ok = await withSession(url(), s, 'POST', '/projects', body);
    expect(ok.status).toBe(201);
    expect((await withSession(url(), s, 'GET', `/projects/${ok.body.id}`, undefined, { csrf: null })).status).toBe(200);
    const refused = (await auditEvents(stack.st.s, { action: 'management.auth_failed' })).filter(
      (e) => e.details?.reason === 'csrf_token_invalid',
    );
    expect(refused.length).toBeGreaterThanOrEqual(5);
  });

  it('answers "am I signed in?" without a credential with 401 session_required, and audits no failure for it', async () => {
    const before = (await auditEvents(stack.st.s, { action: 'management.auth_failed' })).length;
    const res = await call(url(), 'GET', '/session', undefined, fromIp());
    expect([res.status, res.body.error.code]).toEqual([401, 'session_required']);
    const nothing = await call(url(), 'GET', '/projects', undefined, fromIp());
    expect(nothing.status).toBe(401);
    // The probe is no failed sign-in; a management call without credentials is.
    expect((await auditEvents(stack.st.s, { action: 'management.auth_failed' })).length).toBe(before + 1);
  });

  it('a bearer token decides alone: a wrong one is refused beside a valid cookie, and the bearer needs no CSRF token', async () => {
    const s = await signedIn(url(), { token: stack.st.s.managementToken }, fromIp());
    const res = await withSession(url(), s, 'GET', '/projects', undefined, {
      headers: { authorization: 'Bearer wrong-token-wrong-token' },
    });
    expect([res.status, res.body.error.code]).toEqual([401, 'invalid_management_token']);
    const bearer = await call(url(), 'POST', `/projects/${stack.st.projectId}/tokens/revoke`, undefined, {
      authorization: `Bearer ${stack.st.s.managementToken}`,
    });
    expect(bearer.status).toBe(200);
    // GET /session is about a browser session: the bearer token has none.
    const none = await call(url(), 'GET', '/session', undefined, {
      authorization: `Bearer ${stack.st.s.managementToken}`,
    });
    expect([none.status, none.body.error.code]).toEqual([401, 'session_required']);
    expect((await call(url(), 'GET', '/me')).body.error.code).toBe('session_required');
  });

  it('signs out on the server: the old cookie stops working, the cookie is cleared, an event says so', async () => {
    const s = await signedIn(url(), { token: stack.st.s.managementToken }, fromIp());
    // Signing out is a change: it needs the CSRF token too.
    expect((await withSession(url(), s, 'DELETE', '/session', undefined, { csrf: null })).status).toBe(403);
    const out = await withSession(url(), s, 'DELETE', '/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(
      /^llmp_session=; Path=\/manage; Max-Age=0; HttpOnly; SameSite=Strict$/,
    );
    for (const route of ['/session', '/projects']) {
      const res = await withSession(url(), s, 'GET', route);
      expect([res.status, res.body.error.code]).toEqual([401, 'session_expired']);
    }
    expect((await withSession(url(), s, 'DELETE', '/session')).status).toBe(401);
    const events = await auditEvents(stack.st.s, { action: 'session.signed_out', target_id: s.body.session_id });
    expect(events.map((e) => [e.actor_type, e.details?.method])).toEqual([['management-token', 'token']]);
  });

  it('says which sign-in methods exist', async () => {
    const methods = await call(url(), 'GET', '/auth-methods');
    expect(methods).toMatchObject({ status: 200, body: { token: true, password: true, oidc: false } });
  });
});

/** With no users, password sign-in is not offered; an empty body is a 400. */
describe('sign-in without users', () => {
  const stack = stackOn(async () => sqliteDatabase());
  it('offers only the token, and validates the body', async () => {
    expect((await call(stack.st.url, 'GET', '/auth-methods')).body).toEqual({
      token: true,
      password: false,
      oidc: false,
    });
    for (const body of [{}, { token: '' }, { username: 'x' }, { token: 'x', password: 'y' }]) {
      const res = await call(stack.st.url, 'POST', '/session', body);
      expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
    }
  });
});
