import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditEvents, dbEnv } from '../audit/helpers.js';
import { runCli } from '../helpers/cli.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signedIn, signIn, withSession } from '../helpers/session.js';

const FIRST = 'first-password-of-alice';
const SECOND = 'second-password-of-alice';

/** `llm-proxy admin-user add|list|passwd|remove` on the store a running server uses: on both stores. */
describe.each(DIALECTS)('admin-user CLI on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let env: Record<string, string>;
  let server: TestServer;
  beforeAll(async () => {
    registerSecret(FIRST);
    registerSecret(SECOND);
    tdb = await make();
    if (!tdb) return;
    env = {
      ...dbEnv(tdb, randomBytes(32).toString('base64')),
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'llmp-cli-')),
    };
    server = await startTestServer({ ...env, MAINTENANCE_INTERVAL_MS: '0' });
  });
  afterAll(async () => {
    await server?.stop();
    await tdb?.drop();
    if (env?.DATA_DIR) rmSync(env.DATA_DIR, { recursive: true, force: true });
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });
  const cli = (args: string[], input?: string) => runCli(['admin-user', ...args], env, input);

  it('adds a user with the password from stdin, who can then sign in; lists users', async () => {
    const add = await cli(['add', 'Alice', '--role', 'operator', '--password-stdin', '--json'], `${FIRST}\n`);
    expect([add.code, add.stderr]).toEqual([0, '']);
    expect(JSON.parse(add.stdout)).toMatchObject({ username: 'alice', role: 'operator', disabled: false });
    const session = await signedIn(server.url, { username: 'alice', password: FIRST });
    expect(session.body.user).toMatchObject({ username: 'alice', role: 'operator' });

    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^id\s+username\s+role\s+disabled\s+last_sign_in_at\s+created_at\n/);
    expect(list.stdout).toMatch(/\salice\s+operator\s+false\s+20\d\d-/);
    expect(list.stdout).not.toContain('scrypt');
    const [event] = await auditEvents(server, { action: 'user.created' });
    expect([event?.actor_type, event?.actor_id]).toEqual(['system', 'cli']);
  });

  it('refuses what it cannot do, saying why, with exit code 1', async () => {
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['add', 'alice', '--role', 'viewer', '--password-stdin'], `${FIRST}\n`, /A user named "alice" already exists/],
      [['add', 'bob', '--role', 'viewer', '--password-stdin'], 'short\n', /password: must be at least 12 characters/],
      [
        ['add', 'bob', '--role', 'root', '--password-stdin'],
        `${FIRST}\n`,
        /--role must be one of viewer, operator, admin/,
      ],
      [['add', 'bad name', '--role', 'viewer', '--password-stdin'], `${FIRST}\n`, /username: may hold only/],
      [['add', 'bob', '--role', 'viewer'], undefined, /not a terminal: pipe the password in with --password-stdin/],
      [['add', 'bob', '--role', 'viewer', '--password-stdin'], '', /no password on standard input/],
      [['passwd', 'nobody', '--password-stdin'], `${FIRST}\n`, /No user named "nobody"/],
      [['remove', 'nobody'], undefined, /No user named "nobody"/],
    ];
    for (const [args, input, message] of cases) {
      const res = await cli(args, input);
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr, args.join(' ')).toMatch(message);
    }
    expect((await cli(['list', '--json'])).stdout).not.toContain('"bob"');
  });

  it('passwd sets a new password and ends the open sessions; remove deletes the user', async () => {
    const before = await signedIn(server.url, { username: 'alice', password: FIRST });
    const passwd = await cli(['passwd', 'alice', '--password-stdin'], `${SECOND}\r\n`);
    expect([passwd.code, passwd.stdout]).toEqual([0, 'password changed for alice\n']);
    expect((await withSession(server.url, before, 'GET', '/me')).body.error.code).toBe('session_expired');
    expect((await signIn(server.url, { username: 'alice', password: FIRST })).reply.status).toBe(401);
    const after = await signedIn(server.url, { username: 'alice', password: SECOND });

    const remove = await cli(['remove', 'ALICE']);
    expect([remove.code, remove.stdout]).toEqual([0, 'removed alice\n']);
    expect((await withSession(server.url, after, 'GET', '/me')).status).toBe(401);
    expect((await signIn(server.url, { username: 'alice', password: SECOND })).reply.status).toBe(401);
    expect((await cli(['list'])).stdout).toBe('(none)\n');
  });
});
