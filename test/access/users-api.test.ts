import { beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, stackOn } from '../audit/helpers.js';
import { DIALECTS } from '../helpers/databases.js';
import { productionHashCost } from '../helpers/passwords.js';
import { registerSecret } from '../helpers/secret-watch.js';

const PASSWORD = 'correct-horse-battery-staple';

/** Admin users through the management API: create, list, update, delete, with validation and audit events. On both stores. */
describe.each(DIALECTS)('admin users API on %s', (_name, make) => {
  const stack = stackOn(make);
  beforeAll(() => registerSecret(PASSWORD));
  const manage = (method: string, route: string, body?: unknown) => stack.st.s.manage(method, route, body);

  it('creates a user (username lower-cased), never returning the password or its hash', async () => {
    productionHashCost();
    const res = await manage('POST', '/users', { username: 'Dana@Example.com', role: 'operator', password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      username: 'dana@example.com',
      role: 'operator',
      disabled: false,
      last_sign_in_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const list = await manage('GET', '/users');
    expect(list.body.data.map((u: { username: string }) => u.username)).toContain('dana@example.com');
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt|password/);
    const row = await stack.st.s.server.runtime.db
      .selectFrom('admin_users')
      .select('password_hash')
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    // scrypt with its parameters (the production cost) and a salt of its own; the password is nowhere in it.
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const [event] = await auditEvents(stack.st.s, { action: 'user.created', target_id: res.body.id });
    expect(event?.changes).toEqual({
      before: null,
      after: { username: 'dana@example.com', role: 'operator', disabled: false },
    });
    expect(JSON.stringify(await auditEvents(stack.st.s))).not.toContain(PASSWORD);
  });

  it('refuses bad usernames, short passwords, unknown roles, unknown fields and taken names', async () => {
    const cases: Array<[unknown, string | null]> = [
      [{ username: 'has space', role: 'viewer', password: PASSWORD }, 'username'],
      [{ username: '', role: 'viewer', password: PASSWORD }, 'username'],
      [{ username: 'x'.repeat(65), role: 'viewer', password: PASSWORD }, 'username'],
      [{ username: 'short-pw', role: 'viewer', password: 'elevenchars' }, 'password'],
      [{ username: 'bad-role', role: 'root', password: PASSWORD }, 'role'],
      [{ username: 'extra', role: 'viewer', password: PASSWORD, password_hash: 'x' }, null],
    ];
    for (const [body, param] of cases) {
      const res = await manage('POST', '/users', body);
      expect([res.status, res.body.error.code, res.body.error.param], JSON.stringify(body)).toEqual([
        400,
        'invalid_request',
        param,
      ]);
    }
    expect((await manage('POST', '/users', { username: 'twice', role: 'viewer', password: PASSWORD })).status).toBe(
      201,
    );
    const again = await manage('POST', '/users', { username: 'TWICE', role: 'admin', password: PASSWORD });
    expect([again.status, again.body.error.message]).toEqual([409, 'A user named "twice" already exists.']);
  });

  it('updates role, name and disabled flag with an audit event of what changed; deletes', async () => {
    const { body: u } = await manage('POST', '/users', { username: 'eve', role: 'viewer', password: PASSWORD });
    const res = await manage('PATCH', `/users/${u.id}`, { role: 'admin', username: 'eve2', disabled: true });
    expect(res.body).toMatchObject({ username: 'eve2', role: 'admin', disabled: true });
    const [event] = await auditEvents(stack.st.s, { action: 'user.updated', target_id: u.id });
    expect(event?.changes).toEqual({
      before: { username: 'eve', role: 'viewer', disabled: false },
      after: { username: 'eve2', role: 'admin', disabled: true },
    });
    expect((await manage('PATCH', `/users/${u.id}`, { password: 'short' })).body.error.param).toBe('password');
    expect((await manage('PATCH', '/users/nope', { role: 'viewer' })).status).toBe(404);
    expect((await manage('DELETE', `/users/${u.id}`)).status).toBe(204);
    expect((await manage('GET', `/users/${u.id}`)).status).toBe(404);
    expect((await manage('DELETE', `/users/${u.id}`)).status).toBe(404);
    const [gone] = await auditEvents(stack.st.s, { action: 'user.deleted', target_id: u.id });
    expect(gone?.details).toEqual({ sessions_ended: 0 });
  });
});
