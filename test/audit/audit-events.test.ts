import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { type ProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { auditEvents, eventOf, stackOn } from './helpers.js';

const NO_LIMITS = {
  max_requests: null,
  requests_per_minute: null,
  max_concurrent: null,
  tokens_per_minute: null,
  budget_usd: null,
  budget_period: 'total',
  allowed_models: null,
  allowed_endpoints: null,
};

/** One audit event per management change, with what changed, who, from where and in which request: on both stores. */
describe.each(DIALECTS)('audit events on %s', (_name, make) => {
  const stack = stackOn(make);
  /** Every secret the test hands the server or gets back from it: none may reach the trail. */
  const secrets: string[] = [];
  let st: ProxyStack;
  beforeAll(() => {
    st = stack.st;
    if (st) secrets.push(UPSTREAM_KEY, st.token, st.s.managementToken);
  });

  it('records projects created, updated, with a rotated key, and deleted', async () => {
    const key = 'sk-audit-first-secret-1111';
    const key2 = 'sk-audit-second-secret-2222';
    secrets.push(key, key2);
    const created = await st.s.manage('POST', '/projects', {
      name: 'audited',
      api_key: key,
      base_url: 'http://127.0.0.1:9/v1',
      max_requests: 10,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const c = await eventOf(st.s, 'project.created', id);
    expect(c).toMatchObject({
      actor_type: 'management-token',
      actor_id: null,
      client_ip: '127.0.0.1',
      target_type: 'project',
      target_id: id,
      request_id: created.headers.get('x-llm-proxy-request-id'),
      details: null,
    });
    expect(c.changes).toEqual({
      before: null,
      after: {
        name: 'audited',
        base_url: 'http://127.0.0.1:9',
        is_active: true,
        retry_server_errors: false,
        cache_ttl_seconds: null,
        api_key_hint: created.body.api_key_hint,
        ...NO_LIMITS,
        max_requests: 10,
      },
    });

    expect((await st.s.manage('PATCH', `/projects/${id}`, { name: 'audited-2', requests_per_minute: 60 })).status).toBe(
      200,
    );
    expect((await eventOf(st.s, 'project.updated', id)).changes).toEqual({
      before: { name: 'audited', requests_per_minute: null },
      after: { name: 'audited-2', requests_per_minute: 60 },
    });

    const rotated = await st.s.manage('PATCH', `/projects/${id}`, { api_key: key2 });
    expect(rotated.status).toBe(200);
    expect((await eventOf(st.s, 'project.key_rotated', id)).changes).toEqual({
      before: { api_key_hint: created.body.api_key_hint },
      after: { api_key_hint: rotated.body.api_key_hint },
    });
    // Only the key changed: no project.updated for that request.
    expect(await auditEvents(st.s, { action: 'project.updated', target_id: id })).toHaveLength(1);

    const t = await st.s.manage('POST', '/tokens', { project_id: id });
    secrets.push(t.body.token);
    expect((await st.s.manage('DELETE', `/projects/${id}`)).status).toBe(204);
    const d = await eventOf(st.s, 'project.deleted', id);
    expect(d.changes).toEqual({
      before: {
        name: 'audited-2',
        retry_server_errors: false,
        cache_ttl_seconds: null,
        base_url: 'http://127.0.0.1:9',
        is_active: true,
        api_key_hint: rotated.body.api_key_hint,
        ...NO_LIMITS,
        max_requests: 10,
        requests_per_minute: 60,
      },
      after: null,
    });
    expect(d.details).toEqual({ tokens_deleted: 1 });
  });

  it('records tokens created, updated and revoked, one by one and in batches', async () => {
    const created = await st.s.manage('POST', '/tokens', { project_id: st.projectId, name: 'ci', max_requests: 5 });
    secrets.push(created.body.token);
    const id = created.body.id as string;
    expect((await eventOf(st.s, 'token.created', id)).changes).toEqual({
      before: null,
      after: {
        project_id: st.projectId,
        name: 'ci',
        token_hint: created.body.token_hint,
        is_active: true,
        expires_at: null,
        revoked_at: null,
        ...NO_LIMITS,
        max_requests: 5,
      },
    });

    await st.s.manage('PATCH', `/tokens/${id}`, { name: 'ci-2', budget_usd: 2.5, budget_period: 'day' });
    expect((await eventOf(st.s, 'token.updated', id)).changes).toEqual({
      before: { name: 'ci', budget_usd: null, budget_period: 'total' },
      after: { name: 'ci-2', budget_usd: 2.5, budget_period: 'day' },
    });

    const revoke = await st.s.manage('DELETE', `/tokens/${id}`);
    expect(revoke.status).toBe(204);
    const r = await eventOf(st.s, 'token.revoked', id);
    const revokedAt = (await st.s.manage('GET', `/tokens/${id}`)).body.revoked_at;
    expect(r.changes).toEqual({
      before: { is_active: true, revoked_at: null },
      after: { is_active: false, revoked_at: revokedAt },
    });
    expect(r.request_id).toBe(revoke.headers.get('x-llm-proxy-request-id'));
    // Revoking again changes nothing, and records nothing.
    await st.s.manage('DELETE', `/tokens/${id}`);
    expect(await auditEvents(st.s, { target_id: id, action: 'token.*' })).toHaveLength(3);

    const batch = await st.s.manage('POST', '/tokens/batch', {
      project_id: st.projectId,
      count: 3,
      name_prefix: 'class',
      duration_minutes: 60,
    });
    expect(batch.status).toBe(201);
    const ids = (batch.body.data as Array<{ id: string; token: string; expires_at: string }>).map((t) => {
      secrets.push(t.token);
      return t.id;
    });
    const b = await eventOf(st.s, 'token.batch_created', st.projectId);
    expect(b.changes).toBeNull();
    expect(b.details).toEqual({
      count: 3,
      name_prefix: 'class',
      settings: {
        project_id: st.projectId,
        is_active: true,
        expires_at: batch.body.data[0].expires_at,
        revoked_at: null,
        ...NO_LIMITS,
      },
      token_ids: expect.arrayContaining(ids),
    });

    const where = await st.s.manage('POST', '/tokens/revoke', { project_id: st.projectId, name_prefix: 'class-' });
    expect(where.body).toEqual({ revoked: 3 });
    const w = await eventOf(st.s, 'token.batch_revoked');
    expect(w.details).toEqual({
      filter: { project_id: st.projectId, name_prefix: 'class-' },
      revoked: 3,
      token_ids: expect.arrayContaining(ids),
    });

    const other = await st.issueToken();
    secrets.push(other.token);
    const all = await st.s.manage('POST', `/projects/${st.projectId}/tokens/revoke`);
    expect(all.body.revoked).toBeGreaterThanOrEqual(2);
    const p = await eventOf(st.s, 'project.tokens_revoked', st.projectId);
    expect(p.details).toEqual({ revoked: all.body.revoked, token_ids: expect.arrayContaining([other.id, st.tokenId]) });
  });

  it('records price overrides set, changed and removed', async () => {
    await st.s.manage('PUT', '/pricing/audit-model', { input: 1, output: 2 });
    await st.s.manage('PUT', '/pricing/audit-model', { input: 1, output: 3, cached_input: 0.5 });
    expect((await st.s.manage('DELETE', '/pricing/audit-model')).status).toBe(204);
    const events = await auditEvents(st.s, { target_type: 'model', target_id: 'audit-model' });
    expect(events.map((e) => [e.action, e.changes])).toEqual([
      ['pricing.set', { before: null, after: { input: 1, cached_input: null, output: 2, reasoning: null } }],
      ['pricing.set', { before: { output: 2, cached_input: null }, after: { output: 3, cached_input: 0.5 } }],
      ['pricing.unset', { before: { input: 1, cached_input: 0.5, output: 3, reasoning: null }, after: null }],
    ]);
  });

  it('records failed management authentications, without the credential presented', async () => {
    const wrong = `wrong-${randomBytes(16).toString('hex')}`;
    secrets.push(wrong);
    const missing = await fetch(`${st.url}/manage/projects?limit=5`);
    const invalid = await fetch(`${st.url}/manage/tokens/abc`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${wrong}` },
    });
    expect([missing.status, invalid.status]).toEqual([401, 401]);
    const events = await auditEvents(st.s, { action: 'management.auth_failed' });
    expect(events.map((e) => [e.actor_type, e.target_id, e.client_ip, e.request_id, e.details])).toEqual([
      [
        'anonymous',
        '/manage/projects',
        '127.0.0.1',
        missing.headers.get('x-llm-proxy-request-id'),
        { reason: 'missing', method: 'GET', path: '/manage/projects' },
      ],
      [
        'anonymous',
        '/manage/tokens/:id',
        '127.0.0.1',
        invalid.headers.get('x-llm-proxy-request-id'),
        { reason: 'invalid', method: 'DELETE', path: '/manage/tokens/abc' },
      ],
    ]);
  });

  it('records nothing for a change that did not happen', async () => {
    const before = (await auditEvents(st.s)).length;
    expect((await st.s.manage('PATCH', '/projects/00000000-0000-7000-8000-000000000000', { name: 'x' })).status).toBe(
      404,
    );
    expect((await st.s.manage('POST', '/projects', { name: 'main', api_key: 'sk-dup-name-0000' })).status).toBe(409);
    expect((await st.s.manage('POST', '/tokens', { project_id: 'nope' })).status).toBe(404);
    expect((await st.s.manage('DELETE', '/pricing/never-set')).status).toBe(404);
    expect(await auditEvents(st.s)).toHaveLength(before);
  });

  it('chains every event to the one before, and copies each to the private audit file', async () => {
    const events = await auditEvents(st.s);
    expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
    expect(events[0]?.prev_hash).toBe('');
    for (let i = 1; i < events.length; i++) expect(events[i]?.prev_hash).toBe(events[i - 1]?.hash);

    const file = path.join(st.s.dataDir, 'audit.log');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = () =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    // Copied after each commit, asynchronously.
    await until(() => lines().length >= events.length);
    expect(lines()).toEqual(events);
  });

  it('holds no secret: no upstream key, no proxy token, no management token, in the table or the file', async () => {
    const rows = await st.s.server.runtime.db.selectFrom('audit_events').selectAll().execute();
    const dump = JSON.stringify(rows) + readFileSync(path.join(st.s.dataDir, 'audit.log'), 'utf8');
    expect(rows.length).toBeGreaterThan(15);
    for (const secret of secrets) expect(dump).not.toContain(secret);
  });
});
