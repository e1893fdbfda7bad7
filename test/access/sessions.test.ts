import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditEvents, dbEnv } from '../audit/helpers.js';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, type Session, signedIn, withSession } from '../helpers/session.js';

const MINUTE = 60_000;

/**
 * Sessions live in the database: two servers on one database see each other's sign-ins and
 * sign-outs at once. Idle and absolute expiry follow the test clock; last-seen is written at most
 * once a minute (a tenth of the idle time when that is shorter). On both stores.
 */
describe.each(DIALECTS)('sessions on %s', (_name, make) => {
  const clock = manualClock();
  let tdb: TestDatabase | undefined;
  let a: TestServer;
  let b: TestServer;
  /** The shortest idle time there is: ADMIN_SESSION_IDLE_MINUTES=1. */
  let c: TestServer;
  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    const env = {
      ...dbEnv(tdb, randomBytes(32).toString('base64')),
      MANAGEMENT_TOKEN: `mgmt-${randomBytes(24).toString('base64url')}`,
      MAINTENANCE_INTERVAL_MS: '0',
      ADMIN_SESSION_IDLE_MINUTES: '30',
      ADMIN_SESSION_MAX_HOURS: '1',
    };
    a = await startTestServer(env, clock.now);
    b = await startTestServer(env, clock.now);
    c = await startTestServer({ ...env, ADMIN_SESSION_IDLE_MINUTES: '1' }, clock.now);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await c?.stop();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  const token = () => ({ token: a.managementToken });
  const lastSeen = async (s: Session) =>
    (
      await a.server.runtime.db
        .selectFrom('admin_sessions')
        .select('last_seen_at')
        .where('id', '=', s.body.session_id)
        .executeTakeFirstOrThrow()
    ).last_seen_at;

  it('a session signed in on one instance works on the other, and signing out there ends it here', async () => {
    const s = await signedIn(a.url, token());
    expect((await withSession(b.url, s, 'GET', '/me')).body.session_id).toBe(s.body.session_id);
    expect((await withSession(b.url, s, 'DELETE', '/session')).status).toBe(204);
    expect((await withSession(a.url, s, 'GET', '/me')).body.error.code).toBe('session_expired');
  });

  it('ends after the idle time without a request, and not while used; last-seen is written at most once a minute', async () => {
    const s = await signedIn(a.url, token());
    const start = clock.now();
    clock.advance(30_000);
    expect((await withSession(a.url, s, 'GET', '/projects')).status).toBe(200);
    expect(await lastSeen(s)).toBe(start); // within the minute: no write
    clock.advance(30_000);
    const me = await withSession(b.url, s, 'GET', '/me');
    expect(await lastSeen(s)).toBe(start + MINUTE);
    expect(me.body.idle_expires_at).toBe(new Date(start + MINUTE + 30 * MINUTE).toISOString());
    // Used every 29 minutes it stays alive…
    clock.advance(29 * MINUTE);
    expect((await withSession(a.url, s, 'GET', '/me')).status).toBe(200);
    // …and 30 minutes unused end it, on every instance.
    clock.advance(30 * MINUTE);
    for (const server of [a, b]) {
      const res = await withSession(server.url, s, 'GET', '/projects');
      expect([res.status, res.body.error.code]).toEqual([401, 'session_expired']);
      // The refusal clears the browser's cookie.
      expect(res.headers.get('set-cookie')).toMatch(/^llmp_session=; Path=\/manage; Max-Age=0/);
    }
  });

  it('with a 1-minute idle time, a session used every 15 s lives on, and one unused for a minute ends', async () => {
    const s = await signedIn(c.url, token());
    for (let i = 0; i < 12; i++) {
      clock.advance(15_000);
      const res = await withSession(c.url, s, 'GET', '/projects');
      expect([i, res.status]).toEqual([i, 200]);
    }
    // Last-seen is written at most every 6 s here (a tenth of the idle time), not at every request.
    const seen = await lastSeen(s);
    expect(seen).toBe(clock.now());
    clock.advance(5_000);
    expect((await withSession(c.url, s, 'GET', '/me')).body.idle_expires_at).toBe(
      new Date(seen + MINUTE).toISOString(),
    );
    expect(await lastSeen(s)).toBe(seen);
    clock.advance(MINUTE);
    expect((await withSession(c.url, s, 'GET', '/me')).body.error.code).toBe('session_expired');
  });

  it('ends at the absolute expiry however busy it is', async () => {
    const s = await signedIn(a.url, token());
    const start = clock.now();
    expect(s.body.expires_at).toBe(new Date(start + 60 * MINUTE).toISOString());
    for (let i = 0; i < 3; i++) {
      clock.advance(20 * MINUTE - 1);
      expect((await withSession(a.url, s, 'GET', '/me')).status).toBe(200);
    }
    clock.advance(3);
    expect((await withSession(a.url, s, 'GET', '/me')).body.error.code).toBe('session_expired');
  });

  it('an admin lists the active sessions and ends another one; a non-admin may do neither', async () => {
    const viewer = await a.manage('POST', '/users', {
      username: 'vera',
      role: 'viewer',
      password: 'vera-password-1234',
    });
    const admin = await signedIn(a.url, token(), { 'user-agent': 'admin-browser/1.0' });
    const other = await signedIn(
      b.url,
      { username: 'vera', password: 'vera-password-1234' },
      { 'user-agent': 'vera/2.0' },
    );
    const list = await withSession(a.url, admin, 'GET', '/sessions');
    expect(list.status).toBe(200);
    const mine = list.body.data.find((x: { id: string }) => x.id === admin.body.session_id);
    const hers = list.body.data.find((x: { id: string }) => x.id === other.body.session_id);
    expect(mine).toMatchObject({
      current: true,
      user: { id: 'management-token', role: 'admin' },
      auth_method: 'token',
      user_agent: 'admin-browser/1.0',
      client_ip: '127.0.0.1',
      id_hint: `…${admin.cookie.slice(-4)}`,
    });
    expect(hers).toMatchObject({ current: false, user: { id: viewer.body.id, username: 'vera', role: 'viewer' } });
    // No cookie value and no CSRF token in the list.
    const text = JSON.stringify(list.body);
    for (const secret of [admin.cookie, admin.csrf, other.cookie, other.csrf]) expect(text).not.toContain(secret);

    for (const [method, route] of [
      ['GET', '/sessions'],
      ['DELETE', `/sessions/${admin.body.session_id}`],
    ] as const) {
      const res = await withSession(b.url, other, method, route);
      expect([res.status, res.body.error.code]).toEqual([403, 'insufficient_role']);
    }
    expect((await withSession(a.url, admin, 'DELETE', `/sessions/${other.body.session_id}`)).status).toBe(204);
    expect((await withSession(b.url, other, 'GET', '/me')).body.error.code).toBe('session_expired');
    expect((await withSession(a.url, admin, 'DELETE', `/sessions/${other.body.session_id}`)).status).toBe(404);
    const [ended] = await auditEvents(a, { action: 'session.ended', target_id: other.body.session_id });
    expect(ended).toMatchObject({
      actor_type: 'management-token',
      details: { user_id: viewer.body.id, username: 'vera', method: 'password' },
    });
  });

  it("a new role reaches the user's open sessions at once; a new password or deleting the user ends them", async () => {
    const user = await a.manage('POST', '/users', { username: 'olaf', role: 'viewer', password: 'olaf-password-1234' });
    const s = await signedIn(a.url, { username: 'olaf', password: 'olaf-password-1234' });
    const issue = () => withSession(b.url, s, 'POST', '/tokens', { project_id: 'none' });
    expect((await issue()).body.error.code).toBe('insufficient_role');
    await a.manage('PATCH', `/users/${user.body.id}`, { role: 'operator' });
    expect((await withSession(b.url, s, 'GET', '/me')).body.user.role).toBe('operator');
    expect((await issue()).body.error.code).toBe('not_found'); // allowed now: the project does not exist

    await a.manage('PATCH', `/users/${user.body.id}`, { password: 'olaf-new-password-5678' });
    expect((await withSession(a.url, s, 'GET', '/me')).body.error.code).toBe('session_expired');
    const again = await signedIn(a.url, { username: 'olaf', password: 'olaf-new-password-5678' });
    expect((await a.manage('DELETE', `/users/${user.body.id}`)).status).toBe(204);
    expect((await withSession(a.url, again, 'GET', '/me')).body.error.code).toBe('session_expired');
    const [changed] = await auditEvents(a, { action: 'user.password_changed', target_id: user.body.id });
    expect(changed?.details).toEqual({ username: 'olaf', sessions_ended: 1 });
  });

  it('maintenance deletes the rows of ended sessions', async () => {
    await signedIn(a.url, token());
    clock.advance(61 * MINUTE);
    const report = await a.server.runtime.maintenance.runOnce();
    expect(report.sessions_deleted).toBeGreaterThanOrEqual(1);
    const left = await a.server.runtime.db.selectFrom('admin_sessions').select('id').execute();
    expect(left).toEqual([]);
  });

  it('without TRUST_PROXY, X-Forwarded-For and X-Forwarded-Proto are ignored', async () => {
    const spoof = { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https' };
    const s = await signedIn(a.url, token(), spoof);
    expect(s.setCookie).not.toMatch(/Secure/);
    const list = await withSession(a.url, s, 'GET', '/sessions');
    expect(list.body.data.find((x: { current: boolean }) => x.current)?.client_ip).toBe('127.0.0.1');
  });

  it('a session cookie that never existed is refused like an ended one', async () => {
    const res = await call(a.url, 'GET', '/projects', undefined, { cookie: 'llmp_session=made-up-value' });
    expect([res.status, res.body.error.code]).toEqual([401, 'session_expired']);
    const events = await auditEvents(a, { action: 'management.auth_failed' });
    expect(events.at(-1)?.details).toMatchObject({
      reason: 'session_expired',
      method: 'GET',
      path: '/manage/projects',
    });
  });
});
