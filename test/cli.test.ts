import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream } from '../src/mock-upstream/index.js';
import { runCli } from './helpers/cli.js';
import { registerSecret } from './helpers/secret-watch.js';
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
    expect(upd).toMatchObject({ name: 'cli-p2', is_active: false, base_url: null, retry_server_errors: false });
    // Set, left alone when not named, then cleared.
    expect(await json(['project', 'update', p.id, '--retry-server-errors'])).toMatchObject({
      retry_server_errors: true,
    });
    expect(await json(['project', 'update', p.id, '--active'])).toMatchObject({ retry_server_errors: true });
    expect(await json(['project', 'update', p.id, '--no-retry-server-errors'])).toMatchObject({
      retry_server_errors: false,
    });
    expect(await json(['project', 'delete', p.id])).toEqual({ deleted: p.id });
  });

  it('project create and update refuse a base_url a URL parser would rewrite, naming base_url', async () => {
    const bad = 'http://127.0.0.1:9\\@evil.example';
    const create = await runCli(
      ['project', 'create', '--name', 'cli-bad-url', '--api-key', 'sk-1', '--base-url', bad],
      env,
    );
    expect(create.code).toBe(1);
    expect(create.stderr).toMatch(/400 invalid_request.*base_url.*backslashes/);
    const p = await json(['project', 'create', '--name', 'cli-url', '--api-key', 'sk-1']);
    const update = await runCli(['project', 'update', p.id, '--base-url', 'http://up.example.com\t'], env);
    expect(update.code).toBe(1);
    expect(update.stderr).toMatch(/base_url.*U\+0009/);
    expect((await json(['project', 'get', p.id])).base_url).toBeNull();
  });

  it('token create refuses an allowlist over its bounds, naming the field', async () => {
    const p = (await s.manage('POST', '/projects', { name: 'cli-bounds', api_key: 'sk-1' })).body.id;
    const globs = Array.from({ length: 101 }, (_, i) => `gpt-${i}*`).join(',');
    const many = await runCli(['token', 'create', '--project', p, '--allowed-models', globs], env);
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/400 invalid_request.*allowed_models.*at most 100 entries/);
    const long = await runCli(
      ['token', 'create', '--project', p, '--allowed-endpoints', `/v1/${'x'.repeat(197)}`],
      env,
    );
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/allowed_endpoints.*at most 200 characters/);
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

describe('CLI: upstream keys, messages and help', () => {
  it('shows why an upstream key or base URL is refused, and stores nothing', async () => {
    const bad = await runCli(
      ['project', 'create', '--name', 'cli-bad-key', '--api-key', 'sk-proj-abc\ndef0123456789'],
      env,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/400 invalid_request: Invalid body: api_key: contains a line break \(U\+000A\)/);
    const spaced = await runCli(
      ['project', 'create', '--name', 'cli-bad-key', '--api-key', ' sk-proj-0123456789abcd'],
      env,
    );
    expect(spaced.code).toBe(1);
    expect(spaced.stderr).toMatch(/api_key: starts or ends with whitespace/);
    const creds = await runCli(
      ['project', 'create', '--name', 'cli-bad-key', '--api-key', 'sk-1', '--base-url', 'https://u:p@up.example.com'],
      env,
    );
    expect(creds.code).toBe(1);
    expect(creds.stderr).toMatch(/base_url: must not contain credentials/);
    const p = await json([
      'project',
      'create',
      '--name',
      'cli-key-update',
      '--api-key',
      'sk-proj-0123456789abcdefWXYZ',
    ]);
    const upd = await runCli(['project', 'update', p.id, '--api-key', 'sk-proj-0123456789abcdef…'], env);
    expect(upd.code).toBe(1);
    expect(upd.stderr).toMatch(/api_key: contains a character outside Latin-1 \(U\+2026\)/);
    const names = (await json(['project', 'list', '--limit', '1000'])).data.map((x: { name: string }) => x.name);
    expect(names).not.toContain('cli-bad-key');
  });

  it('says "its 1 request" when a one-request token is used up', async () => {
    const mock = await startMockUpstream();
    try {
      const p = await json(['project', 'create', '--name', 'cli-one', '--api-key', 'sk-1', '--base-url', mock.url]);
      const t = await json(['token', 'create', '--project', p.id, '--max-requests', '1']);
      const chat = (text: string) => runCli(['chat', '--token', t.token, '--no-stream', text], env);
      expect((await chat('first')).code).toBe(0);
      const second = await chat('second');
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('This token has used its 1 request.');
    } finally {
      await mock.close();
    }
  });

  it('describes every option, and offers --listen only where it is used', async () => {
    const help = async (...cmd: string[]) => {
      const res = await runCli([...cmd, '--help']);
      expect(res.code, cmd.join(' ')).toBe(0);
      return res.stdout;
    };
    for (const cmd of [
      ['project', 'update'],
      ['token', 'update'],
      ['project', 'create'],
      ['token', 'batch'],
    ]) {
      const text = await help(...cmd);
      // An option line without a description is the flag alone, with nothing after it.
      const bare = text.split('\n').filter((l) => /^ {2}-{1,2}[\w-]+(,\s*--[\w-]+)?( <[^>]+>)?\s*$/.test(l));
      expect(bare, cmd.join(' ')).toEqual([]);
    }
    expect(await help('project', 'update')).toMatch(/--name <name>\s+new unique project name/);
    expect(await help('token', 'update')).toMatch(/--name <name>\s+new label/);
    expect(await help('project', 'list')).toMatch(
      /--management-token <token>\s+management token \(env MANAGEMENT_TOKEN, else the\s+file DATA_DIR\/management-token/,
    );
    expect(await help('token', 'batch')).toContain('zero-padded to the width of --count');
    expect(await help('serve')).toContain('--listen <addr>');
    for (const cmd of ['migrate', 'rekey', 'maintenance']) {
      const text = await help(cmd);
      expect(text, cmd).not.toContain('--listen');
      expect(text, cmd).toContain('--data-dir <dir>');
    }
  });

  it('names token batches as the help says', async () => {
    const p = await json(['project', 'create', '--name', 'cli-batch-names', '--api-key', 'sk-1']);
    const nine = await json(['token', 'batch', '--project', p.id, '--count', '9', '--name-prefix', 'n']);
    expect(nine.data.map((t: { name: string }) => t.name)).toEqual([
      'n-1',
      'n-2',
      'n-3',
      'n-4',
      'n-5',
      'n-6',
      'n-7',
      'n-8',
      'n-9',
    ]);
    const twenty = await json(['token', 'batch', '--project', p.id, '--count', '20', '--name-prefix', 'm']);
    expect(twenty.data.map((t: { name: string }) => t.name).slice(0, 2)).toEqual(['m-01', 'm-02']);
    expect(twenty.data.at(-1).name).toBe('m-20');
  });
});

const SECOND = 'sk-cli-second-key-00000000bbbb';
const ROTATED = 'sk-cli-rotated-key-0000000cccc';
for (const k of [SECOND, ROTATED]) registerSecret(k);

describe('llm-proxy project key', () => {
  it('lists, adds, updates (rotate, disable, weight, base URL, auth style) and removes keys', async () => {
    const p = await json(['project', 'create', '--name', 'cli-keys', '--api-key', 'sk-cli-first-key-0000000aaaa']);
    expect((await json(['project', 'key', 'list', p.id])).data.map((k: { name: string }) => k.name)).toEqual([
      'primary',
    ]);

    const added = await json([
      'project',
      'key',
      'add',
      p.id,
      '--name',
      'azure',
      '--api-key',
      SECOND,
      '--base-url',
      'https://example-resource.openai.azure.com/openai/v1',
      '--auth-style',
      'api-key',
      '--weight',
      '3',
      '--http2',
    ]);
    expect(added).toMatchObject({
      name: 'azure',
      api_key_hint: 'sk-…bbbb',
      base_url: 'https://example-resource.openai.azure.com/openai',
      auth_style: 'api-key',
      weight: 3,
      enabled: true,
      http2: true,
    });

    const updated = await json([
      'project',
      'key',
      'update',
      p.id,
      added.id,
      '--api-key',
      ROTATED,
      '--weight',
      '2',
      '--base-url',
      '',
      '--auth-style',
      'bearer',
      '--name',
      'backup',
      '--disable',
      '--no-http2',
    ]);
    expect(updated).toMatchObject({
      name: 'backup',
      api_key_hint: 'sk-…cccc',
      base_url: null,
      auth_style: 'bearer',
      weight: 2,
      enabled: false,
      http2: false,
    });
    expect((await json(['project', 'key', 'update', p.id, added.id, '--enable'])).enabled).toBe(true);

    // The table names each key by its hint; no key is ever printed.
    const table = await runCli(['project', 'key', 'list', p.id], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('primary');
    expect(table.stdout).toContain('sk-…cccc');
    expect(table.stdout).not.toContain(ROTATED);

    expect(await json(['project', 'key', 'remove', p.id, added.id])).toEqual({ removed: added.id });
    expect((await json(['project', 'key', 'list', p.id])).data).toHaveLength(1);
  });

  it("refuses to remove the project's last enabled key and bad flags, with the reason on stderr", async () => {
    const p = await json(['project', 'create', '--name', 'cli-keys-last', '--api-key', 'sk-cli-first-key-0000000aaaa']);
    const [primary] = (await json(['project', 'key', 'list', p.id])).data;
    const last = await runCli(['project', 'key', 'remove', p.id, primary.id], env);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/409 conflict.*last enabled upstream key/);
    const style = await runCli(
      ['project', 'key', 'add', p.id, '--name', 'x', '--api-key', SECOND, '--auth-style', 'basic'],
      env,
    );
    expect(style.code).not.toBe(0);
    expect(style.stderr).toContain('expected bearer or api-key');
    const weight = await runCli(
      ['project', 'key', 'add', p.id, '--name', 'x', '--api-key', SECOND, '--weight', '0'],
      env,
    );
    expect(weight.code).toBe(1);
    expect(weight.stderr).toMatch(/400 invalid_request.*weight/);
  });
});
