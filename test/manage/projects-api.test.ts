import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream } from '../../src/mock-upstream/index.js';
import { eventOf } from '../audit/helpers.js';
import { until } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.stop());

describe('management API: projects', () => {
  it('rejects requests without or with a wrong management token', async () => {
    const none = await fetch(`${s.url}/manage/projects`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({
      error: {
        message: expect.stringContaining('management token'),
        type: 'authentication_error',
        code: 'invalid_management_token',
        param: null,
      },
    });
    const wrong = await fetch(`${s.url}/manage/projects`, {
      headers: { authorization: `Bearer ${s.managementToken}x` },
    });
    expect(wrong.status).toBe(401);
    const basic = await fetch(`${s.url}/manage/projects`, { headers: { authorization: `Basic ${s.managementToken}` } });
    expect(basic.status).toBe(401);
  });

  it('creates a project and never returns its key', async () => {
    const res = await s.manage('POST', '/projects', {
      name: 'web',
      api_key: 'sk-real-key-0123456789wxyz',
      base_url: 'https://up.example.com/v1/',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'web',
      base_url: 'https://up.example.com',
      is_active: true,
      retry_server_errors: false,
      cache_ttl_seconds: null,
      api_key_hint: 'sk-…wxyz',
      max_requests: null,
      requests_per_minute: null,
      max_concurrent: null,
      tokens_per_minute: null,
      budget_usd: null,
      budget_period: 'total',
      allowed_models: null,
      allowed_endpoints: null,
      request_count: 0,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain('sk-real-key');
    const got = await s.manage('GET', `/projects/${res.body.id}`);
    expect(got.status).toBe(200);
    // GET one adds the lifetime usage (lists and writes do not).
    expect(got.body).toEqual({ ...res.body, usage: expect.objectContaining({ requests: 0, cost_usd: '0.000000000' }) });
  });

  it('answers 409 for a duplicate name, on create and on rename', async () => {
    await s.manage('POST', '/projects', { name: 'dup', api_key: 'sk-1' });
    const again = await s.manage('POST', '/projects', { name: 'dup', api_key: 'sk-2' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      type: 'conflict_error',
      code: 'conflict',
      message: expect.stringContaining('dup'),
    });
    const other = await s.manage('POST', '/projects', { name: 'dup-2', api_key: 'sk-3' });
    const rename = await s.manage('PATCH', `/projects/${other.body.id}`, { name: 'dup' });
    expect(rename.status).toBe(409);
  });

  it('validates bodies with messages that name the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ api_key: 'sk-1' }, 'name'],
      [{ name: '', api_key: 'sk-1' }, 'name'],
      [{ name: 'x', api_key: 'sk-1', base_url: 'ftp://nope' }, 'base_url'],
      [{ name: 'x', api_key: 'sk-1', surprise: true }, 'surprise'],
      [{ name: 'x', api_key: 42 }, 'api_key'],
    ];
    for (const [body, field] of cases) {
      const res = await s.manage('POST', '/projects', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.type).toBe('invalid_request_error');
      expect(res.body.error.message).toContain(field);
    }
  });

  it('answers malformed JSON, a wrong content type and an oversize body clearly', async () => {
    const headers = { authorization: `Bearer ${s.managementToken}`, 'content-type': 'application/json' };
    const bad = await fetch(`${s.url}/manage/projects`, { method: 'POST', headers, body: '{"name": ' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('invalid_json');

    const text = await fetch(`${s.url}/manage/projects`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(415);

    const big = await fetch(`${s.url}/manage/projects`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'big', api_key: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    const body = (await big.json()) as any;
    expect(body.error.code).toBe('request_too_large');
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js/); // no stack trace
  });

  it('lists with cursor pagination', async () => {
    for (let i = 0; i < 5; i++) await s.manage('POST', '/projects', { name: `page-${i}`, api_key: 'sk-x' });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await s.manage('GET', `/projects?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      names.push(...res.body.data.map((p: { name: string }) => p.name));
      cursor = res.body.next_cursor;
    } while (cursor);
    for (let i = 0; i < 5; i++) expect(names).toContain(`page-${i}`);
    expect(new Set(names).size).toBe(names.length);
    expect((await s.manage('GET', '/projects?limit=0')).status).toBe(400);
    expect((await s.manage('GET', '/projects?limit=abc')).status).toBe(400);
  });

  it('updates name, key, base_url and activity', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'upd', api_key: 'sk-old-0000000000aaaa' })).body;
    const res = await s.manage('PATCH', `/projects/${p.id}`, {
      name: 'upd-2',
      api_key: 'sk-new-0000000000bbbb',
      base_url: 'http://127.0.0.1:9',
      is_active: false,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'upd-2',
      api_key_hint: 'sk-…bbbb',
      base_url: 'http://127.0.0.1:9',
      is_active: false,
    });
    const cleared = await s.manage('PATCH', `/projects/${p.id}`, { base_url: null });
    expect(cleared.body.base_url).toBeNull();
  });

  it('sets retry_server_errors on create and update, and audits its change', async () => {
    const p = (
      await s.manage('POST', '/projects', { name: 'retry', api_key: 'sk-r-0000000000cccc', retry_server_errors: true })
    ).body;
    expect(p.retry_server_errors).toBe(true);
    const off = await s.manage('PATCH', `/projects/${p.id}`, { retry_server_errors: false });
    expect(off.body.retry_server_errors).toBe(false);
    expect((await s.manage('GET', `/projects/${p.id}`)).body.retry_server_errors).toBe(false);
    expect((await eventOf(s, 'project.updated', p.id)).changes).toEqual({
      before: { retry_server_errors: true },
      after: { retry_server_errors: false },
    });
    const bad = await s.manage('PATCH', `/projects/${p.id}`, { retry_server_errors: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('retry_server_errors');
  });

  it('PATCH with revoke_tokens revokes every token of the project', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'rt', api_key: 'sk-1' })).body;
    const t1 = (await s.manage('POST', '/tokens', { project_id: p.id })).body;
    const t2 = (await s.manage('POST', '/tokens', { project_id: p.id })).body;
    expect((await s.manage('PATCH', `/projects/${p.id}`, { revoke_tokens: true })).status).toBe(200);
    for (const t of [t1, t2]) {
      expect((await s.manage('GET', `/tokens/${t.id}`)).body).toMatchObject({ is_active: false, status: 'revoked' });
    }
  });

  it('revokes all tokens through POST /projects/{id}/tokens/revoke', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'rv', api_key: 'sk-1' })).body;
    await s.manage('POST', '/tokens', { project_id: p.id });
    await s.manage('POST', '/tokens', { project_id: p.id });
    const res = await s.manage('POST', `/projects/${p.id}/tokens/revoke`);
    expect(res).toMatchObject({ status: 200, body: { revoked: 2 } });
    expect((await s.manage('POST', `/projects/${p.id}/tokens/revoke`)).body).toEqual({ revoked: 0 });
    expect((await s.manage('POST', '/projects/nope/tokens/revoke')).status).toBe(404);
  });

  it('deletes a project with its tokens; unknown ids are 404 everywhere', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'del', api_key: 'sk-1' })).body;
    const t = (await s.manage('POST', '/tokens', { project_id: p.id })).body;
    const del = await s.manage('DELETE', `/projects/${p.id}`);
    expect(del.status).toBe(204);
    expect((await s.manage('GET', `/projects/${p.id}`)).status).toBe(404);
    expect((await s.manage('GET', `/tokens/${t.id}`)).status).toBe(404);
    for (const [method, route, body] of [
      ['GET', `/projects/${p.id}`, undefined],
      ['PATCH', `/projects/${p.id}`, { name: 'x' }],
      ['DELETE', `/projects/${p.id}`, undefined],
      ['GET', '/projects/not-a-uuid', undefined],
    ] as const) {
      const res = await s.manage(method, route, body);
      expect(res.status, `${method} ${route}`).toBe(404);
      expect(res.body.error).toMatchObject({ type: 'not_found_error', code: 'not_found' });
    }
  });

  it('serves the OpenAPI 3.1 spec with every management route', async () => {
    const res = await fetch(`${s.url}/manage/openapi.json`);
    expect(res.status).toBe(200);
    const spec = (await res.json()) as any;
    expect(spec.openapi).toBe('3.1.0');
    const paths = Object.keys(spec.paths);
    for (const p of [
      '/manage/projects',
      '/manage/projects/{id}',
      '/manage/projects/{id}/tokens/revoke',
      '/manage/tokens',
      '/manage/tokens/{id}',
    ]) {
      expect(paths).toContain(p);
    }
    expect(spec.paths['/manage/projects'].post.requestBody.content['application/json'].schema.required).toEqual([
      'name',
      'api_key',
    ]);
  });

  it('answers unknown routes with a 404 in the error shape', async () => {
    const res = await fetch(`${s.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('unknown_url');
  });
});

describe('management API: upstream keys and URLs that could never work', () => {
  const good = 'sk-proj-0123456789abcdefWXYZ';
  /** Keys undici would refuse as a header value (every proxied request a 502), or with spaces around them. */
  const badKeys: Array<[string, string, RegExp]> = [
    ['LF', 'sk-proj-0123456789\nabcd', /line break \(U\+000A\) at position 19/],
    ['CRLF at the end', `${good}\r\n`, /line break|whitespace/],
    ['CR', 'sk-proj-01234\r56789abcd', /line break \(U\+000D\)/],
    ['NUL', 'sk-proj-0123\u0000456789abcd', /control character \(U\+0000\)/],
    ['DEL', 'sk-proj-0123\u007f456789abcd', /control character \(U\+007F\)/],
    ['tab', 'sk-proj-0123\t456789abcd', /control character \(U\+0009\)/],
    ['C1 control', 'sk-proj-0123\u0085456789abcd', /control character \(U\+0085\)/],
    ['non-Latin-1 (…)', 'sk-proj-0123…456789abcd', /outside Latin-1 \(U\+2026\)/],
    ['non-Latin-1 (emoji)', 'sk-proj-0123\u{1F511}456789abcd', /outside Latin-1/],
    ['leading space', ` ${good}`, /whitespace/],
    ['trailing space', `${good} `, /whitespace/],
    ['trailing newline', `${good}\n`, /whitespace/],
    ['only spaces', '   ', /whitespace/],
  ];

  it('refuses them on POST and PATCH with 400 naming api_key, and stores nothing', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'key-rules', api_key: good })).body;
    for (const [label, api_key, message] of badKeys) {
      for (const [method, route, body] of [
        ['POST', '/projects', { name: `bad-key-${label}`, api_key }],
        ['PATCH', `/projects/${p.id}`, { api_key }],
      ] as const) {
        const res = await s.manage(method, route, body);
        expect(res.status, `${method} ${label}`).toBe(400);
        expect(res.body.error, `${method} ${label}`).toMatchObject({
          type: 'invalid_request_error',
          code: 'invalid_request',
          param: 'api_key',
          message: expect.stringMatching(message),
        });
        expect(res.body.error.message).toContain('api_key');
        if (api_key.trim()) expect(res.body.error.message).not.toContain(api_key.trim()); // never echo the secret
      }
    }
    const names = (await s.manage('GET', '/projects?limit=1000')).body.data.map((x: { name: string }) => x.name);
    expect(names.filter((n: string) => n.startsWith('bad-key-'))).toEqual([]);
    expect((await s.manage('GET', `/projects/${p.id}`)).body.api_key_hint).toBe('sk-proj-…WXYZ');
  });

  it('accepts every key undici can send, and the upstream receives it unchanged', async () => {
    // Visible ASCII, inner spaces and Latin-1 letters all fit in a header value.
    const key = 'sk-clé-0123 456789~!"#$%&\'()*+,./:;<=>?@[\\]^_`{|}ÿ';
    const mock = await startMockUpstream({ apiKey: key });
    try {
      const p = await s.manage('POST', '/projects', { name: 'latin-1-key', api_key: key, base_url: mock.url });
      expect(p.status).toBe(201);
      const t = (await s.manage('POST', '/tokens', { project_id: p.body.id })).body;
      const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: t.token, maxRetries: 0 });
      const models = await client.models.list();
      expect(models.data.length).toBeGreaterThan(0);
    } finally {
      await mock.close();
    }
  });

  it('refuses a base_url with credentials, a query, a fragment, whitespace, controls or a backslash, or not http(s)', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'url-rules', api_key: good })).body;
    const cases: Array<[string, RegExp]> = [
      ['http://user:pw@up.example.com', /credentials/],
      ['https://key@up.example.com/v1', /credentials/],
      ['https://up.example.com/v1?api-version=1', /query/],
      ['https://up.example.com/?', /query/],
      ['https://up.example.com/#frag', /fragment/],
      ['up.example.com', /http\(s\) URL/],
      ['localhost:8080', /http:\/\/ or https:\/\//],
      ['ftp://up.example.com', /http:\/\/ or https:\/\//],
      // A URL parser rewrites or drops these, so the host it reads is not the one written.
      ['http://127.0.0.1:9\\@evil.example', /backslashes \(U\+005C at position 19\)/],
      ['http://up.example.com\\v1', /U\+005C/],
      ['http://up.exa\tmple.com', /whitespace.*U\+0009/],
      ['http://up.example.com\r\n', /U\+000D/],
      ['http://up.example.com/\nv1', /U\+000A/],
      [' http://up.example.com', /U\+0020 at position 1\)/],
      ['http://up.example.com ', /U\+0020/],
      ['http://up.example.com/a b', /U\+0020/],
      ['http://up.example.com\u0000', /control/],
      ['http://up.exa\u00admple.com', /invisible.*U\+00AD/],
      ['http://up.example.com/\u202e', /U\+202E/],
      ['http://up.example.com\u00a0', /U\+00A0/],
    ];
    for (const [base_url, message] of cases) {
      for (const [method, route, body] of [
        ['POST', '/projects', { name: 'bad-url', api_key: good, base_url }],
        ['PATCH', `/projects/${p.id}`, { base_url }],
      ] as const) {
        const res = await s.manage(method, route, body);
        expect(res.status, `${method} ${base_url}`).toBe(400);
        expect(res.body.error, `${method} ${base_url}`).toMatchObject({
          param: 'base_url',
          message: expect.stringMatching(message),
        });
        expect(JSON.stringify(res.body)).not.toContain('pw@');
      }
    }
    expect((await s.manage('GET', `/projects/${p.id}`)).body.base_url).toBeNull();
    const ok = await s.manage('PATCH', `/projects/${p.id}`, { base_url: 'https://gateway.example.com/openai/v1/' });
    expect(ok).toMatchObject({ status: 200, body: { base_url: 'https://gateway.example.com/openai' } });
  });

  it('forwards a base_url stored before the rule to the host the URL parser reads, nowhere else', async () => {
    const mock = await startMockUpstream({ apiKey: good });
    try {
      const p = (await s.manage('POST', '/projects', { name: 'stored-before', api_key: good, base_url: mock.url }))
        .body;
      // Written straight to the store, as an older version accepted it.
      const stored = `${mock.url}\\@evil.example`;
      await s.server.runtime.db.updateTable('projects').set({ base_url: stored }).where('id', '=', p.id).execute();
      const t = (await s.manage('POST', '/tokens', { project_id: p.id })).body;
      const res = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${t.token}` } });
      await res.arrayBuffer();
      // WHATWG URL: host 127.0.0.1:<port>, path /@evil.example; the request went there and only there.
      expect(new URL(stored).host).toBe(new URL(mock.url).host);
      expect(mock.requests().map((r) => r.path)).toEqual(['/@evil.example/v1/models']);
      // It can be corrected; it cannot be written again.
      const again = await s.manage('PATCH', `/projects/${p.id}`, { base_url: stored });
      expect(again.body.error).toMatchObject({ param: 'base_url' });
      expect((await s.manage('PATCH', `/projects/${p.id}`, { base_url: mock.url })).status).toBe(200);
    } finally {
      await mock.close();
    }
  });

  it('shows at most a known prefix and the last 4 characters, and nothing of a short key', async () => {
    const cases: Array<[string, string]> = [
      ['sk-proj-abcdefghijklmnop1234', 'sk-proj-…1234'],
      ['sk-svcacct-abcdefghijklmnop1234', 'sk-svcacct-…1234'],
      ['sk-abcdefghijkl', 'sk-…ijkl'],
      ['sk-abcdefghijk', '…'], // 11 characters after the prefix
      ['abcdefghijklmnop', '…mnop'], // no known prefix: none of its head
      ['abcdefghijk', '…'],
      ['sk-1', '…'],
      ['abcdefg', '…'],
      ['x', '…'],
    ];
    for (const [i, [api_key, hint]] of cases.entries()) {
      const res = await s.manage('POST', '/projects', { name: `hint-${i}`, api_key });
      expect(res.body.api_key_hint, api_key).toBe(hint);
      const patched = await s.manage('PATCH', `/projects/${res.body.id}`, { api_key: `${api_key}` });
      expect(patched.body.api_key_hint, api_key).toBe(hint);
    }
  });

  it('makes hints stored under the old rule safe when they are read', async () => {
    // Rows written before the fix: first 3 characters whatever they were, the whole of a short key.
    const db = s.server.runtime.db;
    const stored: Array<[string, string]> = [
      ['abc…', '…'],
      ['sk-…', '…'],
      ['Xy7…wxyz', '…wxyz'],
      ['sk-…wxyz', 'sk-…wxyz'],
    ];
    for (const [i, [old, shown]] of stored.entries()) {
      const p = (await s.manage('POST', '/projects', { name: `old-hint-${i}`, api_key: 'sk-whatever-0123456789' }))
        .body;
      await db.updateTable('projects').set({ api_key_hint: old }).where('id', '=', p.id).execute();
      expect((await s.manage('GET', `/projects/${p.id}`)).body.api_key_hint, old).toBe(shown);
      const listed = (await s.manage('GET', '/projects?limit=1000')).body.data.find(
        (x: { id: string }) => x.id === p.id,
      );
      expect(listed.api_key_hint, old).toBe(shown);
    }
  });
});

describe('management API: request edge cases', () => {
  it('rejects a cursor it did not issue', async () => {
    const res = await s.manage('GET', '/projects?cursor=!!!');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('cursor');
  });

  it('accepts a JSON content type with an empty body on bodiless routes', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'empty-body', api_key: 'sk-1' })).body;
    const res = await fetch(`${s.url}/manage/projects/${p.id}/tokens/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.managementToken}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const create = await fetch(`${s.url}/manage/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.managementToken}`, 'content-type': 'application/json' },
    });
    expect(create.status).toBe(400);
  });

  it('keeps the first revocation time when a token is revoked twice', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'twice', api_key: 'sk-1' })).body;
    const t = (await s.manage('POST', '/tokens', { project_id: p.id })).body;
    await s.manage('DELETE', `/tokens/${t.id}`);
    const first = (await s.manage('GET', `/tokens/${t.id}`)).body.revoked_at;
    // The clock has moved on, so a second revocation would stamp another time.
    await until(() => Date.now() > Date.parse(first));
    await s.manage('DELETE', `/tokens/${t.id}`);
    expect((await s.manage('GET', `/tokens/${t.id}`)).body.revoked_at).toBe(first);
  });
});
