import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './helpers/cli.js';
import { registerSecret } from './helpers/secret-watch.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  s = await startTestServer();
  env = { LLM_PROXY_URL: s.url, MANAGEMENT_TOKEN: s.managementToken };
});
afterAll(async () => s.stop());

/** The built CLI in a process of its own, as a user's shell runs it (see spawnCli). */
const run = (args: string[], opts: { env: Record<string, string>; input?: string; closeStdout?: boolean }) =>
  spawnCli(args, opts.env, opts.input, { closeStdout: opts.closeStdout });

const runWithClosedStdout = async (args: string[]) => {
  const { code, stderr } = await run(args, { env, closeStdout: true });
  return { code, stderr };
};

describe('CLI output into a reader that stops early (| head)', () => {
  it('openapi (375 kB of JSON) exits 0 quietly, without a stack trace', async () => {
    expect(await runWithClosedStdout(['openapi'])).toEqual({ code: 0, stderr: '' });
  });

  it('project create exits 0 quietly; the project was created', async () => {
    expect(await runWithClosedStdout(['project', 'create', '--name', 'piped', '--api-key', 'sk-piped-0000'])).toEqual({
      code: 0,
      stderr: '',
    });
    const list = await s.manage('GET', '/projects');
    expect(list.body.data.map((p: { name: string }) => p.name)).toContain('piped');
  });
});

/**
 * Commands that open the database themselves log their warnings (here: no ENCRYPTION_KEY, the key
 * file in DATA_DIR is used) to stderr; stdout holds only their output, so a table or `--json` can be
 * piped. Each test runs at most two processes.
 */
describe('direct-database commands: diagnostics on stderr, output alone on stdout', () => {
  // Made when the tests run (a filtered run that skips them makes nothing to leave behind).
  const dbEnv = { DATA_DIR: '' };
  beforeAll(() => {
    dbEnv.DATA_DIR = mkdtempSync(path.join(tmpdir(), 'llmp-stdio-'));
  });
  const password = 'a-password-for-stdio-tests';
  registerSecret(password);
  afterAll(() => {
    if (dbEnv.DATA_DIR) rmSync(dbEnv.DATA_DIR, { recursive: true, force: true });
  });
  const warning = /"level":"warn".*ENCRYPTION_KEY is not set/;
  const noJsonLine = (stdout: string) => expect(stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);

  it('migrate prints only its result; admin-user add the key-file warning on stderr and nothing on stdout', async () => {
    const migrate = await run(['migrate'], { env: dbEnv });
    expect([migrate.code, migrate.stderr]).toEqual([0, '']);
    expect(migrate.stdout).toMatch(/^applied: 0001-initial, .*\n$/);
    const add = await run(['admin-user', 'add', 'stdio', '--role', 'viewer', '--password-stdin'], {
      env: dbEnv,
      input: `${password}\n`,
    });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toMatch(warning);
    noJsonLine(add.stdout);
  });

  it('admin-user list: the warning on stderr, the table alone on stdout; audit verify its result', async () => {
    const list = await run(['admin-user', 'list'], { env: dbEnv });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toMatch(warning);
    expect(list.stdout).toMatch(
      /^id\s+username\s+role\s+disabled\s+last_sign_in_at\s+created_at\n\S+\s+stdio\s+viewer\s.*\n$/,
    );
    const verify = await run(['audit', 'verify'], { env: dbEnv });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK: 1 audit event\(s\) verified/);
    noJsonLine(verify.stdout);
  });

  it('admin-user passwd and remove: the warning on stderr, one result line on stdout', async () => {
    const passwd = await run(['admin-user', 'passwd', 'stdio', '--password-stdin'], {
      env: dbEnv,
      input: `${password}-2\n`,
    });
    expect(passwd.code, passwd.stderr).toBe(0);
    expect(passwd.stderr).toMatch(warning);
    expect(passwd.stdout).toBe('password changed for stdio\n');
    const remove = await run(['admin-user', 'remove', 'stdio'], { env: dbEnv });
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.stderr).toMatch(warning);
    expect(remove.stdout).toBe('removed stdio\n');
  });

  it('rekey and maintenance: only their summary on stdout', async () => {
    const rekey = await run(['rekey'], { env: dbEnv });
    expect(rekey.code, rekey.stderr).toBe(0);
    expect(rekey.stderr).toMatch(warning);
    expect(rekey.stdout).toBe('re-encrypted 0 project key(s)\n');
    const maintenance = await run(['maintenance'], { env: dbEnv });
    expect(maintenance.code, maintenance.stderr).toBe(0);
    expect(maintenance.stdout).toMatch(/^deleted 0 usage record\(s\) older than 90 day\(s\)\n/);
    noJsonLine(maintenance.stdout);
  });
});

/** `token get` and `project get` print a record: its `usage` as rows of their own, not a JSON blob. */
describe('records with a nested object', () => {
  it('token get and project get print usage as indented rows under its name', async () => {
    const project = await s.manage('POST', '/projects', { name: 'records', api_key: 'sk-records-0000' });
    const token = await s.manage('POST', '/tokens', { project_id: project.body.id, duration_minutes: 60 });
    for (const args of [
      ['token', 'get', token.body.id],
      ['project', 'get', project.body.id],
    ]) {
      const res = await run(args, { env });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout, args.join(' ')).not.toContain('{');
      const lines = res.stdout.split('\n');
      const at = lines.indexOf('usage');
      expect(at, res.stdout).toBeGreaterThan(0);
      // The values line up with the record's own column.
      const column = (lines[0] as string).search(/ \S+$/);
      expect(lines.slice(at + 1, at + 4)).toEqual([
        `${'  requests'.padEnd(column)} 0`,
        `${'  errors'.padEnd(column)} 0`,
        `${'  prompt_tokens'.padEnd(column)} 0`,
      ]);
      expect(lines).toContain(`${'  cost_usd'.padEnd(column)} 0.000000000`);
      expect(lines).toContain(`${'  avg_duration_ms'.padEnd(column)} -`);
    }
  });
});
