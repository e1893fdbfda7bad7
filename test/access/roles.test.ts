import Fastify from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role, roleAtLeast } from '../../src/access/roles.js';
import { applyRouteAccess, ROUTE_ACCESS, type RouteAccess } from '../../src/manage/route-access.js';
import { auditEvents, stackOn } from '../audit/helpers.js';
import { DIALECTS } from '../helpers/databases.js';
import { call, type Session, signedIn, withSession } from '../helpers/session.js';

const FAKE_ID = '01900000-0000-7000-8000-000000000000';
const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Every route of the table with its parameters filled in (ids that exist nowhere: nothing is really changed). */
const routes = Object.entries(ROUTE_ACCESS as Record<string, RouteAccess>).map(([key, access]) => {
  const [method, path] = key.split(' ') as [string, string];
  return { key, method, path: path.replace(':id', FAKE_ID).replace(':model', 'role-test-model'), access };
});
const ruled = routes.filter((r): r is typeof r & { access: Role } => (ROLES as readonly string[]).includes(r.access));

describe('the route table', () => {
  it('refuses to register a management route that has no rule', async () => {
    const app = Fastify();
    app.addHook('onRoute', applyRouteAccess);
    app.get('/manage/projects', async () => 'ok');
    expect(() => app.post('/manage/something-new', async () => 'ok')).toThrow(
      'management route POST /manage/something-new has no rule in ROUTE_ACCESS (manage/route-access.ts)',
    );
  });
});

/**
 * The API itself enforces the roles, for every route in the table: a viewer changes nothing, an
 * operator touches only tokens, an admin everything. On both stores (sessions are read from them).
 */
describe.each(DIALECTS)('roles on %s', (_name, make) => {
  const stack = stackOn(make);
  const sessions = {} as Record<Role, Session>;
  beforeAll(async () => {
    if (!stack.st) return;
    for (const role of ROLES) {
      const password = `${role}-password-for-roles`;
      const res = await stack.st.s.manage('POST', '/users', { username: `${role}-user`, role, password });
      expect(res.status).toBe(201);
      sessions[role] = await signedIn(stack.st.url, { username: `${role}-user`, password });
    }
  });

  it('every route in the table is registered', () => {
    for (const r of routes)
      expect(
        stack.st.s.server.app.hasRoute({ method: r.method as 'GET', url: `/manage${r.key.split(' ')[1]}` }),
        r.key,
      ).toBe(true);
  });

  for (const role of ROLES) {
    it(`the ${role} role is refused every route that needs more, and let through the rest`, async () => {
      const before = await auditEvents(stack.st.s);
      for (const r of ruled) {
        const res = await withSession(
          stack.st.url,
          sessions[role],
          r.method,
          r.path,
          CHANGES.has(r.method) && r.method !== 'DELETE' ? {} : undefined,
        );
        if (roleAtLeast(role, r.access))
          expect([401, 403], `${role} ${r.key}: ${JSON.stringify(res.body)}`).not.toContain(res.status);
        else {
          expect([res.status, res.body?.error?.code], `${role} ${r.key}`).toEqual([403, 'insufficient_role']);
          expect(res.body.error.message).toBe(`Your role (${role}) may not do this; it needs the role ${r.access}.`);
        }
      }
      // A refused request changed nothing: it left only its own management.access_denied event.
      const refused = ruled.filter((r) => !roleAtLeast(role, r.access));
      const added = (await auditEvents(stack.st.s)).slice(before.length);
      const denied = added.filter((e) => e.action === 'management.access_denied');
      expect(denied).toHaveLength(refused.length);
      expect(denied.every((e) => e.actor_type === 'user' && e.details?.role === role)).toBe(true);
      if (role === 'viewer') expect(added.filter((e) => e.action !== 'management.access_denied')).toEqual([]);
    });
  }

  it('a viewer cannot change anything, an operator cannot touch projects, pricing, users or sessions', () => {
    const changes = ruled.filter((r) => CHANGES.has(r.method));
    expect(changes.filter((r) => roleAtLeast('viewer', r.access))).toEqual([]);
    expect(changes.filter((r) => roleAtLeast('operator', r.access)).map((r) => r.key)).toEqual([
      'POST /projects/:id/tokens/revoke',
      'POST /tokens',
      'POST /tokens/batch',
      'POST /tokens/revoke',
      'PATCH /tokens/:id',
      'DELETE /tokens/:id',
    ]);
    const adminOnlyReads = ruled.filter((r) => r.method === 'GET' && r.access === 'admin').map((r) => r.key);
    expect(adminOnlyReads).toEqual(['GET /users', 'GET /users/:id', 'GET /sessions']);
  });

  it('an operator really revokes and issues tokens with its session', async () => {
    const op = sessions.operator;
    const issued = await withSession(stack.st.url, op, 'POST', '/tokens', {
      project_id: stack.st.projectId,
      name: 'by-operator',
    });
    expect(issued.status).toBe(201);
    expect((await withSession(stack.st.url, op, 'DELETE', `/tokens/${issued.body.id}`)).status).toBe(204);
    const project = await withSession(stack.st.url, op, 'PATCH', `/projects/${stack.st.projectId}`, {
      name: 'renamed',
    });
    expect(project.body.error.code).toBe('insufficient_role');
  });

  it('the management token is an admin everywhere; public routes need nothing; session routes need a session', async () => {
    for (const r of routes) {
      const res = await call(stack.st.url, r.method, r.path, undefined, {
        authorization: `Bearer ${stack.st.s.managementToken}`,
      });
      if (r.access === 'session') expect(res.body?.error?.code, r.key).toBe('session_required');
      else expect([401, 403], r.key).not.toContain(res.status);
      if (r.access === 'public')
        expect([401, 403], r.key).not.toContain((await call(stack.st.url, r.method, r.path)).status);
      else expect((await call(stack.st.url, r.method, r.path)).status, r.key).toBe(401);
    }
  });
});
