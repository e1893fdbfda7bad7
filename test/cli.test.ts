import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  s = await startTestServer();
  env = { LLM_PROXY_URL: s.url, MANAGEMENT_TOKEN: s.managementToken };
});
afterAll(async () => s.stop());

const json = async (args: string[]) => {
  const res = await runCli([...args, '--json'], env);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout);
};

describe('CLI against a running server', () => {
  it('creates, lists, updates and deletes projects', async () => {
    const p = await json([
      'project',
      'create',
      '--name',
      'cli-p',
      '--api-key',
      'sk-cli-000000000000abcd',
      '--base-url',
      'http://127.0.0.1:9',
    ]);
    expect(p).toMatchObject({
      name: 'cli-p',
      api_key_hint: 'sk-…abcd',
      base_url: 'http://127.0.0.1:9',
      is_active: true,
    });
    expect((await json(['project', 'get', p.id])).id).toBe(p.id);
    expect((await json(['project', 'list'])).data.map((x: { id: string }) => x.id)).toContain(p.id);
    const upd = await json(['project', 'update', p.id, '--name', 'cli-p2', '--inactive', '--base-url', '']);
    expect(upd).toMatchObject({ name: 'cli-p2', is_active: false, base_url: null });
    expect(await json(['project', 'delete', p.id])).toEqual({ deleted: p.id });
  });

  // Tokens in four tests of at most two processes each, with their setup through the API: a process
  // takes seconds to start on a busy machine, and eight in one test would outrun its time limit.
  const project = async (name: string): Promise<string> =>
    (await s.manage('POST', '/projects', { name, api_key: 'sk-1' })).body.id;
  const token = async (projectId: string): Promise<string> =>
    (await s.manage('POST', '/tokens', { project_id: projectId })).body.id;

  it('issues a token and prints the plaintext once: token list never shows it', async () => {
    const p = await project('cli-t');
    const t = await json([
      'token',
      'create',
      '--project',
      p,
      '--duration-minutes',
      '30',
      '--max-requests',
      '5',
      '--name',
      'ci',
    ]);
    expect(t.token).toMatch(/^sk-llmp-/);
    expect(t).toMatchObject({ max_requests: 5, name: 'ci', status: 'active' });
    const list = await json(['token', 'list', '--project', p]);
    expect(list.data).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(t.token);
  });

  it('token update clears a limit and the expiry', async () => {
    const id = await token(await project('cli-t-update'));
    expect(await json(['token', 'update', id, '--max-requests', '0', '--expires-at', 'never'])).toMatchObject({
      max_requests: null,
      expires_at: null,
    });
  });

  it('token revoke revokes one token, as token get then shows', async () => {
    const id = await token(await project('cli-t-revoke'));
    expect(await json(['token', 'revoke', id])).toEqual({ revoked: id });
    expect((await json(['token', 'get', id])).status).toBe('revoked');
  });

  it("token revoke-project revokes a project's active tokens", async () => {
    const p = await project('cli-t-revoke-project');
    await token(p);
    expect(await json(['token', 'revoke-project', p])).toEqual({ revoked: 1 });
  });

  it('prints readable tables and key/value output without --json', async () => {
    await json(['project', 'create', '--name', 'cli-table', '--api-key', 'sk-1']);
    const res = await runCli(['project', 'list'], env);
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n')[0]).toMatch(/^id\s+name\s+is_active\s+api_key_hint/);
    expect(res.stdout).toContain('cli-table');
  });

  it('reports API errors and unreachable servers with a clear message and exit code 1', async () => {
    const missing = await runCli(['project', 'get', 'nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404 not_found');
    const badAuth = await runCli(['project', 'list', '--management-token', 'wrong-token'], env);
    expect(badAuth.code).toBe(1);
    expect(badAuth.stderr).toContain('401');
    const down = await runCli(['project', 'list', '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach http://127.0.0.1:9');
    const noToken = await runCli(['project', 'list'], { LLM_PROXY_URL: s.url, DATA_DIR: '/nonexistent' });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('No management token');
  });

  it('reads the management token from the data directory when none is given', async () => {
    const res = await runCli(['project', 'list', '--json'], { LLM_PROXY_URL: s.url, DATA_DIR: s.dataDir });
    expect(res.code, res.stderr).toBe(0);
  });

  it('has help that lists the commands', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    for (const c of ['serve', 'migrate', 'rekey', 'project', 'token']) expect(res.stdout).toContain(c);
    const tok = await runCli(['token', 'create', '--help']);
    expect(tok.stdout).toContain('--duration-minutes');
  });
});
