import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../audit/helpers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const FIRST = 'sk-proj-first-key-0123456789aaaa';
const SECOND = 'sk-proj-second-key-0123456789bbbb';
const ROTATED = 'sk-proj-rotated-key-0123456789cccc';
const AZURE = 'azure-key-0123456789abcdef0123dddd';
const SECRETS = [FIRST, SECOND, ROTATED, AZURE];

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.stop());

async function project(name: string): Promise<string> {
  const res = await s.manage('POST', '/projects', { name, api_key: FIRST });
  expect(res.status).toBe(201);
  return res.body.id;
}

const keysOf = async (projectId: string) => {
  const res = await s.manage('GET', `/projects/${projectId}/keys`);
  expect(res.status).toBe(200);
  return res.body.data as Array<Record<string, unknown>>;
};

describe('management API: upstream keys of a project', () => {
  it("a new project's api_key is its first key, named primary; the list never shows a key", async () => {
    const pid = await project('pool-a');
    const res = await s.manage('GET', `/projects/${pid}/keys`);
    expect(res.body).toEqual({
      data: [
        {
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          project_id: pid,
          name: 'primary',
          api_key_hint: 'sk-proj-…aaaa',
          base_url: null,
          auth_style: 'bearer',
          weight: 1,
          enabled: true,
          http2: false,
          cooldowns: [],
          created_at: expect.any(String),
          updated_at: expect.any(String),
        },
      ],
      next_cursor: null,
    });
  });

  it('adds, updates, rotates and removes keys; every reply shows a hint, never the key', async () => {
    const pid = await project('pool-b');
    const added = await s.manage('POST', `/projects/${pid}/keys`, {
      name: 'azure',
      api_key: AZURE,
      base_url: 'https://example-resource.openai.azure.com/openai/v1/',
      auth_style: 'api-key',
      weight: 3,
      http2: true,
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      project_id: pid,
      name: 'azure',
      api_key_hint: '…dddd',
      // A trailing /v1 is removed, as for a project's base_url: clients send /v1/… paths.
      base_url: 'https://example-resource.openai.azure.com/openai',
      auth_style: 'api-key',
      weight: 3,
      enabled: true,
      http2: true,
    });
    const kid = added.body.id;

    const patched = await s.manage('PATCH', `/projects/${pid}/keys/${kid}`, {
      name: 'azure-east',
      weight: 5,
      enabled: false,
      base_url: null,
      auth_style: 'bearer',
      http2: false,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'azure-east',
      weight: 5,
      enabled: false,
      base_url: null,
      auth_style: 'bearer',
      http2: false,
    });

    const rotated = await s.manage('PATCH', `/projects/${pid}/keys/${kid}`, { api_key: ROTATED });
    expect(rotated.body.api_key_hint).toBe('sk-proj-…cccc');

    expect((await keysOf(pid)).map((k) => k.name)).toEqual(['primary', 'azure-east']);
    const removed = await s.manage('DELETE', `/projects/${pid}/keys/${kid}`);
    expect(removed.status).toBe(204);
    expect((await keysOf(pid)).map((k) => k.name)).toEqual(['primary']);

    const replies = JSON.stringify([added.body, patched.body, rotated.body, await keysOf(pid)]);
    for (const secret of SECRETS) expect(replies).not.toContain(secret);
  });

  it('pages with the list envelope', async () => {
    const pid = await project('pool-paged');
    for (const name of ['k1', 'k2', 'k3']) {
      expect((await s.manage('POST', `/projects/${pid}/keys`, { name, api_key: SECOND })).status).toBe(201);
    }
    const first = await s.manage('GET', `/projects/${pid}/keys?limit=3`);
    expect(first.body.data.map((k: { name: string }) => k.name)).toEqual(['primary', 'k1', 'k2']);
    const next = await s.manage('GET', `/projects/${pid}/keys?limit=3&cursor=${first.body.next_cursor}`);
    expect(next.body).toMatchObject({ data: [{ name: 'k3' }], next_cursor: null });
  });

  it("the project's api_key stays its first key: PATCH rotates it, and its hint follows the first key", async () => {
    const pid = await project('pool-c');
    const patched = await s.manage('PATCH', `/projects/${pid}`, { api_key: ROTATED });
    expect(patched.body.api_key_hint).toBe('sk-proj-…cccc');
    expect((await keysOf(pid))[0]).toMatchObject({ name: 'primary', api_key_hint: 'sk-proj-…cccc' });

    // Remove the first key: the next one becomes first, and the project shows its hint.
    const second = await s.manage('POST', `/projects/${pid}/keys`, { name: 'second', api_key: SECOND });
    const [primary] = await keysOf(pid);
    expect((await s.manage('DELETE', `/projects/${pid}/keys/${primary?.id}`)).status).toBe(204);
    expect((await s.manage('GET', `/projects/${pid}`)).body.api_key_hint).toBe('sk-proj-…bbbb');
    // …and the project's api_key now rotates that one.
    await s.manage('PATCH', `/projects/${pid}`, { api_key: FIRST });
    expect(await keysOf(pid)).toEqual([expect.objectContaining({ id: second.body.id, api_key_hint: 'sk-proj-…aaaa' })]);
  });

  it('refuses to disable or remove the last enabled key with 409, and allows it once another is enabled', async () => {
    const pid = await project('pool-d');
    const [primary] = await keysOf(pid);
    const disable = await s.manage('PATCH', `/projects/${pid}/keys/${primary?.id}`, { enabled: false });
    expect(disable.status).toBe(409);
    expect(disable.body.error).toEqual({
      type: 'conflict_error',
      code: 'conflict',
      param: null,
      message:
        'Cannot disable the key "primary": it is the project\'s last enabled upstream key. Add or enable another key first.',
    });
    const remove = await s.manage('DELETE', `/projects/${pid}/keys/${primary?.id}`);
    expect(remove.status).toBe(409);
    expect(remove.body.error.message).toMatch(/^Cannot remove the key "primary"/);

    // A disabled second key does not count; enabled, it does.
    const spare = await s.manage('POST', `/projects/${pid}/keys`, { name: 'spare', api_key: SECOND, enabled: false });
    expect((await s.manage('PATCH', `/projects/${pid}/keys/${primary?.id}`, { enabled: false })).status).toBe(409);
    // A disabled key can always be removed, and an enabled one left alone.
    expect((await s.manage('DELETE', `/projects/${pid}/keys/${spare.body.id}`)).status).toBe(204);
    const spare2 = await s.manage('POST', `/projects/${pid}/keys`, { name: 'spare', api_key: SECOND });
    expect((await s.manage('PATCH', `/projects/${pid}/keys/${primary?.id}`, { enabled: false })).status).toBe(200);
    expect((await s.manage('PATCH', `/projects/${pid}/keys/${spare2.body.id}`, { enabled: false })).status).toBe(409);
    expect((await keysOf(pid)).map((k) => [k.name, k.enabled])).toEqual([
      ['primary', false],
      ['spare', true],
    ]);
  });

  it("answers 404 for an unknown project, an unknown key, and another project's key", async () => {
    const mine = await project('pool-e');
    const theirs = await project('pool-f');
    const [their] = await keysOf(theirs);
    const unknown = '01900000-0000-7000-8000-000000000000';
    for (const [method, route, body] of [
      ['GET', `/projects/${unknown}/keys`, undefined],
      ['POST', `/projects/${unknown}/keys`, { name: 'x', api_key: SECOND }],
      ['PATCH', `/projects/${mine}/keys/${unknown}`, { weight: 2 }],
      ['PATCH', `/projects/${mine}/keys/${their?.id}`, { enabled: false }],
      ['DELETE', `/projects/${mine}/keys/${their?.id}`, undefined],
    ] as const) {
      const res = await s.manage(method, route, body);
      expect([method, route, res.status, res.body.error.code]).toEqual([method, route, 404, 'not_found']);
    }
    expect(await keysOf(theirs)).toEqual([their]);
  });

  it('answers 409 for a second key of the same name in a project, on add and on rename', async () => {
    const pid = await project('pool-g');
    const dup = await s.manage('POST', `/projects/${pid}/keys`, { name: 'primary', api_key: SECOND });
    expect(dup.status).toBe(409);
    expect(dup.body.error.message).toBe('This project already has a key named "primary".');
    const other = await s.manage('POST', `/projects/${pid}/keys`, { name: 'other', api_key: SECOND });
    expect((await s.manage('PATCH', `/projects/${pid}/keys/${other.body.id}`, { name: 'primary' })).status).toBe(409);
  });

  it('validates bodies with 400s that name the field', async () => {
    const pid = await project('pool-h');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ api_key: SECOND }, 'name'],
      [{ name: 'n' }, 'api_key'],
      [{ name: 'n', api_key: ' spaced ' }, 'api_key'],
      [{ name: 'n', api_key: SECOND, auth_style: 'basic' }, 'auth_style'],
      [{ name: 'n', api_key: SECOND, weight: 0 }, 'weight'],
      [{ name: 'n', api_key: SECOND, weight: 1001 }, 'weight'],
      [{ name: 'n', api_key: SECOND, weight: 1.5 }, 'weight'],
      [{ name: 'n', api_key: SECOND, base_url: 'https://user:pw@host' }, 'base_url'],
      [{ name: 'n', api_key: SECOND, unknown: 1 }, ''],
    ];
    for (const [body, param] of cases) {
      const res = await s.manage('POST', `/projects/${pid}/keys`, body);
      expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([
        JSON.stringify(body),
        400,
        'invalid_request',
      ]);
      if (param) expect(res.body.error.message).toContain(param);
    }
    expect((await keysOf(pid)).map((k) => k.name)).toEqual(['primary']);
  });

  it('audits every change under the project, with hints but never a key; the log holds no key either', async () => {
    const pid = await project('pool-i');
    const added = await s.manage('POST', `/projects/${pid}/keys`, { name: 'audited', api_key: SECOND });
    const kid = added.body.id;
    await s.manage('PATCH', `/projects/${pid}/keys/${kid}`, { weight: 4 });
    await s.manage('PATCH', `/projects/${pid}/keys/${kid}`, { api_key: ROTATED });
    await s.manage('DELETE', `/projects/${pid}/keys/${kid}`);
    const events = (await auditEvents(s, { target_id: pid })).filter((e) => e.action.startsWith('project.key_'));
    expect(events.map((e) => [e.action, e.details, e.changes])).toEqual([
      [
        'project.key_added',
        { key_id: kid, key_name: 'audited' },
        {
          before: null,
          after: {
            name: 'audited',
            api_key_hint: 'sk-proj-…bbbb',
            base_url: null,
            auth_style: 'bearer',
            weight: 1,
            enabled: true,
            http2: false,
          },
        },
      ],
      ['project.key_updated', { key_id: kid, key_name: 'audited' }, { before: { weight: 1 }, after: { weight: 4 } }],
      [
        'project.key_rotated',
        { key_id: kid, key_name: 'audited' },
        { before: { api_key_hint: 'sk-proj-…bbbb' }, after: { api_key_hint: 'sk-proj-…cccc' } },
      ],
      [
        'project.key_removed',
        { key_id: kid, key_name: 'audited' },
        { before: expect.objectContaining({ name: 'audited', api_key_hint: 'sk-proj-…cccc', weight: 4 }), after: null },
      ],
    ]);
    const trail = JSON.stringify(await auditEvents(s)) + s.logs();
    for (const secret of SECRETS) expect(trail).not.toContain(secret);
  });
});
