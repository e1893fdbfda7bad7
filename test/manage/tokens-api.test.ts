import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let projectId: string;
beforeAll(async () => {
  s = await startTestServer();
  projectId = (await s.manage('POST', '/projects', { name: 'tok', api_key: 'sk-upstream-1' })).body.id;
});
afterAll(async () => s.stop());

describe('management API: tokens', () => {
  it('issues a token with a plaintext shown once, then only a hint', async () => {
    const before = Date.now();
    const res = await s.manage('POST', '/tokens', {
      project_id: projectId,
      duration_minutes: 60,
      max_requests: 10,
      name: 'ci',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      project_id: projectId,
      name: 'ci',
      is_active: true,
      status: 'active',
      max_requests: 10,
      request_count: 0,
      last_used_at: null,
      revoked_at: null,
    });
    expect(res.body.token).toMatch(/^sk-llmp-[A-Za-z0-9_-]{43}$/);
    expect(res.body.token_hint).toBe(`sk-llmp-…${res.body.token.slice(-4)}`);
    const expires = Date.parse(res.body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 60 * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 60 * 60_000);

    const got = await s.manage('GET', `/tokens/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.token).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(res.body.token);
    const list = await s.manage('GET', `/tokens?project_id=${projectId}`);
    expect(JSON.stringify(list.body)).not.toContain(res.body.token);
  });

  it('accepts expires_at, or no expiry at all', async () => {
    const at = new Date(Date.now() + 86_400_000).toISOString();
    const a = await s.manage('POST', '/tokens', { project_id: projectId, expires_at: at });
    expect(a.status).toBe(201);
    expect(a.body.expires_at).toBe(at);
    const b = await s.manage('POST', '/tokens', { project_id: projectId });
    expect(b.body.expires_at).toBeNull();
  });

  it('validates token requests', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{}, 400, 'project_id'],
      [{ project_id: projectId, duration_minutes: 0 }, 400, 'duration_minutes'],
      [{ project_id: projectId, duration_minutes: 1.5 }, 400, 'duration_minutes'],
      [{ project_id: projectId, max_requests: -1 }, 400, 'max_requests'],
      [{ project_id: projectId, expires_at: 'tomorrow' }, 400, 'expires_at'],
      [{ project_id: projectId, expires_at: '2001-01-01T00:00:00Z' }, 400, 'expires_at'],
      [
        { project_id: projectId, duration_minutes: 5, expires_at: new Date(Date.now() + 1e6).toISOString() },
        400,
        'expires_at',
      ],
      [{ project_id: 'no-such-project' }, 404, 'project'],
    ];
    for (const [body, status, text] of cases) {
      const res = await s.manage('POST', '/tokens', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.message).toContain(text);
    }
  });

  it('updates name, expiry and cap; reports expired and revoked status', async () => {
    const t = (await s.manage('POST', '/tokens', { project_id: projectId, duration_minutes: 5 })).body;
    const upd = await s.manage('PATCH', `/tokens/${t.id}`, { name: 'renamed', max_requests: 3, expires_at: null });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ name: 'renamed', max_requests: 3, expires_at: null, status: 'active' });
    const extended = Date.now();
    const ext = await s.manage('PATCH', `/tokens/${t.id}`, { duration_minutes: 120 });
    expect(Date.parse(ext.body.expires_at)).toBeGreaterThanOrEqual(extended + 120 * 60_000);
    expect(Date.parse(ext.body.expires_at)).toBeLessThanOrEqual(Date.now() + 120 * 60_000);
    expect((await s.manage('PATCH', `/tokens/${t.id}`, { is_active: 'yes' })).status).toBe(400);

    const del = await s.manage('DELETE', `/tokens/${t.id}`);
    expect(del.status).toBe(204);
    const after = await s.manage('GET', `/tokens/${t.id}`);
    expect(after.body).toMatchObject({ is_active: false, status: 'revoked', revoked_at: expect.any(String) });
  });

  it('lists tokens with filters and pagination', async () => {
    const p2 = (await s.manage('POST', '/projects', { name: 'tok-2', api_key: 'sk-2' })).body.id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await s.manage('POST', '/tokens', { project_id: p2 })).body.id);
    await s.manage('DELETE', `/tokens/${ids[0]}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await s.manage('GET', `/tokens?project_id=${p2}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.data.map((t: { id: string }) => t.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    const active = await s.manage('GET', `/tokens?project_id=${p2}&active=true`);
    expect(active.body.data.map((t: { id: string }) => t.id)).toEqual(ids.slice(1));
    const inactive = await s.manage('GET', `/tokens?project_id=${p2}&active=false`);
    expect(inactive.body.data.map((t: { id: string }) => t.id)).toEqual([ids[0]]);
  });

  it('answers 404 for unknown token ids', async () => {
    for (const [method, body] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
      const res = await s.manage(method, '/tokens/0190a000-0000-7000-8000-000000000000', body);
      expect(res.status, method).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });
});

describe('management API: rate limiting', () => {
  it('throttles a client past MANAGE_RATE_LIMIT_PER_MINUTE, also before authentication', async () => {
    const limited = await startTestServer({ MANAGE_RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push(
          (await fetch(`${limited.url}/manage/projects`, { headers: { authorization: 'Bearer wrong' } })).status,
        );
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429]);
      const res = await limited.manage('GET', '/projects');
      expect(res.status).toBe(429);
      expect(res.body.error).toMatchObject({ type: 'rate_limit_error', code: 'management_rate_limited' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      // Health and readiness are never throttled.
      expect((await fetch(`${limited.url}/ready`)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
