import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack({ env: { MAINTENANCE_INTERVAL_MS: '0' } });
});
afterAll(async () => st?.stop());

const messages = [{ role: 'user' as const, content: 'hi' }];
/** Status of one chat completion through the proxy with this token. */
const statusWith = async (token: string) => {
  const res = await st.proxy('/v1/chat/completions', {
    token,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
  });
  await res.arrayBuffer();
  return res.status;
};

interface Created {
  id: string;
  name: string | null;
  token: string;
  status: string;
  expires_at: string | null;
  max_requests: number | null;
  requests_per_minute: number | null;
  allowed_models: string[] | null;
}

const batch = async (body: Record<string, unknown>): Promise<Created[]> => {
  const res = await st.s.manage('POST', '/tokens/batch', { project_id: st.projectId, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
};

describe('batch token operations', () => {
  it('creates 50 tokens in one call, with names, expiry and limits; every one works through the proxy', async () => {
    const before = Date.now();
    const created = await batch({
      count: 50,
      name_prefix: 'class-2026',
      duration_minutes: 120,
      max_requests: 3,
      requests_per_minute: 60,
      allowed_models: ['gpt-4o*'],
    });
    expect(created).toHaveLength(50);
    expect(new Set(created.map((t) => t.token)).size).toBe(50);
    expect(new Set(created.map((t) => t.id)).size).toBe(50);
    expect(created.map((t) => t.name)).toEqual(
      Array.from({ length: 50 }, (_, i) => `class-2026-${String(i + 1).padStart(2, '0')}`),
    );
    for (const t of created) {
      expect(t).toMatchObject({
        status: 'active',
        max_requests: 3,
        requests_per_minute: 60,
        allowed_models: ['gpt-4o*'],
      });
      expect(t.token).toMatch(/^sk-llmp-/);
      expect(t.expires_at).toBe(created[0]?.expires_at);
    }
    expect(Date.parse(created[0]?.expires_at as string)).toBeGreaterThanOrEqual(before + 120 * 60_000);

    const statuses = await Promise.all(created.map((t) => statusWith(t.token)));
    expect(statuses).toEqual(Array(50).fill(200));
    // The limits apply: a model outside the allowlist is refused.
    const refused = await st.proxy('/v1/chat/completions', {
      token: created[0]?.token,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'o3', messages }),
    });
    expect(refused.status).toBe(403);

    // The plaintext is shown only in the batch reply.
    const list = await st.s.manage('GET', `/tokens?project_id=${st.projectId}&limit=1000`);
    expect(JSON.stringify(list.body)).not.toContain(created[0]?.token);
    expect(list.body.data.filter((t: { name: string | null }) => t.name?.startsWith('class-2026-'))).toHaveLength(50);
  });

  it('creates unnamed tokens without a prefix, and up to 1000 at once', async () => {
    const created = await batch({ count: 1000, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(created).toHaveLength(1000);
    expect(created.every((t) => t.name === null)).toBe(true);
    await st.s.manage('POST', '/tokens/revoke', { ids: created.map((t) => t.id) });
  });

  it('validates a batch, and creates nothing when it is refused', async () => {
    const count = async () =>
      Number(
        (
          await st.s.server.runtime.db
            .selectFrom('tokens')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const cases: Array<[Record<string, unknown>, number, string | null]> = [
      [{ project_id: st.projectId, count: 0 }, 400, 'count'],
      [{ project_id: st.projectId, count: 1001 }, 400, 'count'],
      [{ project_id: st.projectId }, 400, 'count'],
      [{ project_id: st.projectId, count: 2, requests_per_minute: 0 }, 400, 'requests_per_minute'],
      [{ project_id: st.projectId, count: 2, allowed_endpoints: ['GET'] }, 400, 'allowed_endpoints'],
      [
        {
          project_id: st.projectId,
          count: 2,
          duration_minutes: 5,
          expires_at: new Date(Date.now() + 1e6).toISOString(),
        },
        400,
        'expires_at',
      ],
      [{ project_id: st.projectId, count: 2, expires_at: '2001-01-01T00:00:00Z' }, 400, 'expires_at'],
      [{ project_id: st.projectId, count: 2, name: 'x' }, 400, null],
      [{ project_id: 'no-such-project', count: 2 }, 404, null],
    ];
    for (const [body, status, param] of cases) {
      const res = await st.s.manage('POST', '/tokens/batch', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (status === 400) expect(res.body.error.param, JSON.stringify(body)).toBe(param);
    }
    expect(await count()).toBe(before);
  });

  it('revokes exactly the tokens that match a filter; they get 401 on their very next request', async () => {
    const ci = await batch({ count: 10, name_prefix: 'ci-fleet' });
    const keep = await batch({ count: 5, name_prefix: 'ci-fleetX' }); // shares the text "ci-fleet" but not "ci-fleet-"
    const otherProject = await st.addProject('batch-other');
    const foreign = await st.s.manage('POST', '/tokens/batch', {
      project_id: otherProject.projectId,
      count: 3,
      name_prefix: 'ci-fleet',
    });
    expect(foreign.status).toBe(201);
    // Warm the token cache: a revocation must not wait for a cache entry to expire.
    const everyone = [...ci, ...keep, ...foreign.body.data];
    expect(await Promise.all(everyone.map((t: Created) => statusWith(t.token)))).toEqual(
      Array(everyone.length).fill(200),
    );

    const res = await st.s.manage('POST', '/tokens/revoke', { project_id: st.projectId, name_prefix: 'ci-fleet-' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 10 });
    expect(await Promise.all(ci.map((t) => statusWith(t.token)))).toEqual(Array(10).fill(401));
    expect(await Promise.all(keep.map((t) => statusWith(t.token)))).toEqual(Array(5).fill(200));
    expect(await Promise.all(foreign.body.data.map((t: Created) => statusWith(t.token)))).toEqual([200, 200, 200]);
    for (const t of ci) expect((await st.s.manage('GET', `/tokens/${t.id}`)).body.status).toBe('revoked');
    // Nothing active matches any more.
    expect(
      (await st.s.manage('POST', '/tokens/revoke', { project_id: st.projectId, name_prefix: 'ci-fleet-' })).body,
    ).toEqual({
      revoked: 0,
    });

    // By ids, across projects.
    const ids = [keep[0]?.id, foreign.body.data[0].id];
    expect((await st.s.manage('POST', '/tokens/revoke', { ids })).body).toEqual({ revoked: 2 });
    expect(await statusWith(keep[0]?.token as string)).toBe(401);
    expect(await statusWith(foreign.body.data[0].token)).toBe(401);
    expect(await statusWith(keep[1]?.token as string)).toBe(200);
  });

  it('revokes expired tokens by filter', async () => {
    const [a, b] = await batch({ count: 2, name_prefix: 'short', duration_minutes: 5 });
    const db = st.s.server.runtime.db;
    await db
      .updateTable('tokens')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', a?.id as string)
      .execute();
    const res = await st.s.manage('POST', '/tokens/revoke', { project_id: st.projectId, expired: true });
    expect(res.body).toEqual({ revoked: 1 });
    expect((await st.s.manage('GET', `/tokens/${a?.id}`)).body).toMatchObject({ status: 'revoked', is_active: false });
    expect((await st.s.manage('GET', `/tokens/${b?.id}`)).body.status).toBe('active');
  });

  it('refuses a revocation without any filter, and unknown fields', async () => {
    for (const body of [{}, { expired: false }, { ids: [] }, { project: 'x' }, { name_prefix: '' }]) {
      const res = await st.s.manage('POST', '/tokens/revoke', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await st.s.manage('POST', '/tokens/revoke')).status).toBe(400);
    expect(await statusWith(st.token)).toBe(200);
  });
});
