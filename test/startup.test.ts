import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult, childEnv, runCli, spawnCli, spawnServe } from './helpers/cli.js';
import { until } from './helpers/proxy.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'llmp-start-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * `serve` with LOG_FILE set (so stdout stays empty): resolves once the banner on stderr says it is
 * running, with the exit code to come.
 */
async function serveLoggingToFile(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], {
    env: childEnv({ LISTEN_ADDR: '127.0.0.1:0', ...env }),
  });
  let err = '';
  child.stderr?.on('data', (c) => (err += c));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', () => {
      const m = /Proxy \(base_url\):\s+(http:\S+)\/v1/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    exited.then(() => reject(new Error(`serve exited early:\n${err}`)));
  });
  return { child, url, exited, stderr: () => err };
}

/** A regular file in `dir`, for paths that must be a directory. */
const file = (dir: string) => {
  const f = path.join(dir, 'not-a-dir');
  writeFileSync(f, '');
  return f;
};

/**
 * Runs the CLI to completion like spawnCli, with a safety net: a process still running after five
 * minutes (a start that hangs) is killed and reported as hung, instead of holding the test. Only a
 * hang reaches it: on a loaded machine these refusals took over a minute (a minute's net failed them).
 */
function spawnUntilExit(args: string[], env: Record<string, string>): Promise<CliResult & { hung: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.stdin.end();
    const net = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(net);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

const logLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; level: string });

// Each case has its own DATA_DIR, port and processes, and spends its time waiting on them: the
// cases of a group run side by side (describe.concurrent).
describe.concurrent('LOG_FILE: every line logged before exit lands, in a private file', () => {
  it('keeps the final shutdown lines in every one of many SIGTERM stops, and the file is 0600', async () => {
    // 12 stops, 3 processes at a time; each slot reuses its migrated data directory.
    const dir = freshDir();
    const stopOnce = async (slot: number, i: number) => {
      const file = path.join(dir, `logs-${slot}`, `run-${i}.log`);
      const srv = await serveLoggingToFile({ DATA_DIR: path.join(dir, `data-${slot}`), LOG_FILE: file });
      srv.child.kill('SIGTERM');
      expect(await srv.exited, file).toBe(0);
      const msgs = logLines(file).map((l) => l.msg);
      expect(msgs, file).toContain('llm-proxy listening');
      expect(msgs, file).toContain('shutting down: draining in-flight requests');
      expect(msgs.at(-1), file).toBe('llm-proxy stopped');
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    };
    await Promise.all(
      [0, 1, 2].map(async (slot) => {
        for (let i = 0; i < 4; i++) await stopOnce(slot, i);
      }),
    );
  });

  it('makes an existing 0644 log file private and appends to it', async () => {
    const dir = freshDir();
    const file = path.join(dir, 'logs', 'proxy.log');
    const srv0 = await serveLoggingToFile({ DATA_DIR: dir, LOG_FILE: file });
    srv0.child.kill('SIGTERM');
    await srv0.exited;
    chmodSync(file, 0o644);
    const before = logLines(file).length;
    const srv = await serveLoggingToFile({ DATA_DIR: dir, LOG_FILE: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toBe(0);
    const lines = logLines(file);
    expect(lines.length).toBeGreaterThan(before);
    expect(lines.filter((l) => l.msg === 'llm-proxy stopped')).toHaveLength(2);
  });

  it('writes an uncaught error and the lines before it to the file, then exits 1', async () => {
    const dir = freshDir();
    const file = path.join(dir, 'proxy.log');
    // Test-only preload: throws from a timer when told to, as a bug in any module would.
    const preload = path.join(dir, 'throw-on-sigusr2.mjs');
    writeFileSync(
      preload,
      "process.on('SIGUSR2', () => setImmediate(() => { throw new Error('boom from a timer'); }));\n",
    );
    const srv = await serveLoggingToFile({ DATA_DIR: dir, LOG_FILE: file }, ['--import', preload]);
    srv.child.kill('SIGUSR2');
    expect(await srv.exited).toBe(1);
    const last = logLines(file).at(-1) as { msg: string; level: string; err?: { message: string } };
    expect(last).toMatchObject({
      level: 'fatal',
      msg: 'uncaught error: exiting',
      err: { message: 'boom from a timer' },
    });
    expect(srv.stderr()).toContain('boom from a timer');
  });

  it('refuses a LOG_FILE it cannot open, naming it, before DATA_DIR is touched', async () => {
    const dir = freshDir();
    const dataDir = path.join(dir, 'data');
    const blocker = path.join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const res = await spawnCli(['serve'], {
      DATA_DIR: dataDir,
      LISTEN_ADDR: '127.0.0.1:0',
      LOG_FILE: `${blocker}/x.log`,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('LOG_FILE');
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe.concurrent('start-up and shutdown (real process)', () => {
  it('first start creates the database, key file and management token (0600); a second start reuses them', async () => {
    const dataDir = freshDir();
    const first = await spawnServe({ DATA_DIR: dataDir });
    const token = readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim();
    const key = readFileSync(path.join(dataDir, 'encryption.key'), 'utf8').trim();
    expect(token).toMatch(/^mgmt-[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    for (const f of ['management-token', 'encryption.key']) {
      expect(statSync(path.join(dataDir, f)).mode & 0o777, f).toBe(0o600);
    }
    expect(statSync(path.join(dataDir, 'llm-proxy.db')).isFile()).toBe(true);
    expect(first.stderr()).toContain(token); // the banner shows a freshly generated token once
    expect(first.stderr()).toContain(`${first.url}/manage`);
    expect(first.stdout()).toContain('generated an encryption key file');

    // Data written in the first run is readable (and decryptable) in the second.
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${first.url}/manage/projects`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'persisted', api_key: 'sk-persist-1234' }),
    });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await spawnServe({ DATA_DIR: dataDir });
    expect(readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim()).toBe(token);
    expect(readFileSync(path.join(dataDir, 'encryption.key'), 'utf8').trim()).toBe(key);
    expect(second.stderr()).not.toContain(token);
    expect(second.stderr()).toContain('management-token');
    const list = await fetch(`${second.url}/manage/projects`, { headers });
    expect(((await list.json()) as any).data.map((p: { name: string }) => p.name)).toEqual(['persisted']);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('answers health, liveness and readiness', async () => {
    const srv = await spawnServe({ DATA_DIR: freshDir() });
    try {
      // The instances counts come from the heartbeat, whose first write follows the listening line.
      const health = async () => (await (await fetch(`${srv.url}/health`)).json()) as { instances: unknown };
      await until(async () => (await health()).instances !== null);
      expect(await health()).toEqual({
        status: 'ok',
        version: expect.any(String),
        uptime_seconds: expect.any(Number),
        draining: false,
        store: { kind: 'sqlite', status: 'ok' },
        in_flight: 0,
        load: { in_flight_limit: 4096, shedding: false, shed: 0 },
        usage: { pending: 0, written: 0, dropped: 0, spilled: 0, failing: null, writer: 'ok', journal: 'ok' },
        upstreams: [],
        upstream_keys: { cooling: 0, half_open: 0 },
        sinks: {},
        // SQLite: no LISTEN; the change log is read every CHANGES_POLL_MS.
        changes: expect.objectContaining({ state: 'polling-only', failing: null }),
        // Without REDIS_URL each instance limits in memory.
        limiter: { backend: 'memory' },
        instances: { live: 1, draining: 0, gone: 0, versions: [expect.any(String)], as_of: expect.any(String) },
      });
      expect((await fetch(`${srv.url}/live`)).status).toBe(200);
      const ready = await fetch(`${srv.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', usage_writer: 'ok', usage_journal: 'ok', load: 'ok' },
        usage_pending: 0,
      });
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });

  it('finishes an in-flight request on SIGTERM, refuses new connections, and exits 0', async () => {
    const dataDir = freshDir();
    const srv = await spawnServe({ DATA_DIR: dataDir, MANAGEMENT_TOKEN: 'a-management-token-for-tests' });
    const headers = { authorization: 'Bearer a-management-token-for-tests' };
    // Hold a request open: half its body is sent when the signal arrives, the rest once the server
    // says it is draining. Its `100 Continue` says the server has the request.
    const { request } = await import('node:http');
    const req = request(`${srv.url}/manage/projects`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', expect: '100-continue' },
    });
    const inFlight = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    const continued = new Promise((resolve) => req.once('continue', resolve));
    req.flushHeaders();
    await continued;
    req.write('{"name":"late",');
    srv.child.kill('SIGTERM');
    await until(() => srv.stdout().includes('shutting down: draining in-flight requests'));
    req.end('"api_key":"sk-1"}');
    expect(await inFlight).toBe(201);
    expect(await srv.exited).toBe(0);
    await expect(fetch(`${srv.url}/health`)).rejects.toThrow();
    expect(srv.stdout()).toContain('llm-proxy stopped');
  });

  // One test per case, so they run side by side and a failure names its case.
  it.each<[Record<string, string>, string]>([
    [{ LISTEN_ADDR: 'not-an-address' }, 'LISTEN_ADDR'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ MANAGEMENT_TOKEN: 'short' }, 'MANAGEMENT_TOKEN'],
    [{ ENCRYPTION_KEY: 'dG9vLXNob3J0' }, 'ENCRYPTION_KEY'],
    [{ REQUIRE_ENCRYPTION_KEY: 'true' }, 'ENCRYPTION_KEY'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ AUTO_MIGRATE: 'maybe' }, 'AUTO_MIGRATE'],
  ])('stops with a message naming the variable when configuration is invalid: %o', async (env, name) => {
    const res = await spawnCli(['serve'], { DATA_DIR: freshDir(), LISTEN_ADDR: '127.0.0.1:0', ...env });
    expect(res.code, JSON.stringify(env)).toBe(1);
    expect(res.stderr, JSON.stringify(env)).toContain(name);
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  // Settings are checked before DATA_DIR is touched. One test per case, as above.
  const checkedBeforeDataDir = async (env: Record<string, string>, message: RegExp, args = ['serve']) => {
    const dataDir = path.join(freshDir(), 'data');
    const res = await spawnUntilExit(args, { DATA_DIR: dataDir, LISTEN_ADDR: '127.0.0.1:0', ...env });
    expect(res.hung, `${JSON.stringify(env)}: still running after five minutes`).toBe(false);
    expect(res.code, JSON.stringify(env)).toBe(1);
    expect(res.stderr, JSON.stringify(env)).toMatch(message);
    expect(res.stderr, JSON.stringify(env)).not.toMatch(/\n\s+at |options\.port|Invalid input|secret-pw/);
    expect(existsSync(dataDir), `${JSON.stringify(env)}: DATA_DIR created`).toBe(false);
  };

  it.each<[Record<string, string>, RegExp]>([
    [{ LISTEN_ADDR: '127.0.0.1:99999' }, /LISTEN_ADDR: port "99999" is not valid: .*0-65535/],
    [{ LISTEN_ADDR: 'no-such-host.invalid:8080' }, /LISTEN_ADDR: cannot listen on .*does not resolve/],
    [{ STREAM_INCLUDE_USAGE: 'maybe' }, /STREAM_INCLUDE_USAGE: expected one of true, false, 1, 0, yes, no, on, off/],
    [{ OPENAI_API_URL: 'api.openai.com' }, /OPENAI_API_URL: expected an http\(s\) URL/],
    [{ ENCRYPTION_KEY: 'dG9vLXNob3J0' }, /ENCRYPTION_KEY: must be 32 bytes/],
    [
      {
        DATABASE_URL: 'postgres://llm:secret-pw@127.0.0.1:1/llm',
        ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
      },
      /DATABASE_URL: cannot connect to PostgreSQL: .*ECONNREFUSED/,
    ],
  ])('checks every setting before DATA_DIR is touched: %o exits 1 naming it and creates nothing', checkedBeforeDataDir);

  // Every path setting is looked at before anything is created. "Unwritable" holds for root too: a
  // path below a regular file, a directory where a file goes, or /proc (where Node's recursive mkdir
  // used to loop forever: `serve` hung without a word).
  it.each<[string, (dir: string) => Record<string, string>, RegExp]>([
    [
      'DATA_DIR under /proc',
      () => ({ DATA_DIR: '/proc/llmp-no-such/data' }),
      /DATA_DIR: cannot create .*kernel file system \(proc\)/,
    ],
    ['DATA_DIR a regular file', (d) => ({ DATA_DIR: file(d) }), /DATA_DIR: .*not-a-dir is not a directory/],
    [
      'DATA_DIR below a regular file',
      (d) => ({ DATA_DIR: `${file(d)}/data` }),
      /DATA_DIR: cannot create .*not-a-dir is not a directory/,
    ],
    [
      'LOG_FILE under /proc',
      () => ({ LOG_FILE: '/proc/llmp-no-such/proxy.log' }),
      /LOG_FILE: cannot create .*kernel file system/,
    ],
    ['LOG_FILE a directory', (d) => ({ LOG_FILE: d }), /LOG_FILE: .* is a directory/],
    [
      'AUDIT_LOG_FILE below a regular file',
      (d) => ({ AUDIT_LOG_FILE: `${file(d)}/audit.log` }),
      /AUDIT_LOG_FILE: cannot create .*not-a-dir is not a directory/,
    ],
    [
      'AUDIT_LOG_FILE under /proc',
      () => ({ AUDIT_LOG_FILE: '/proc/llmp-no-such/audit.log' }),
      /AUDIT_LOG_FILE: cannot create .*kernel file system/,
    ],
    [
      'SHIPPING_FILE below a regular file',
      (d) => ({ SHIPPING_FILE: `${file(d)}/usage.jsonl` }),
      /SHIPPING_FILE: cannot create .*not a directory/,
    ],
    [
      'DATABASE_URL below a regular file',
      (d) => ({ DATABASE_URL: `sqlite:${file(d)}/llm-proxy.db` }),
      /DATABASE_URL: cannot create .*not a directory/,
    ],
    [
      'PRICING_FILE missing',
      (d) => ({ PRICING_FILE: path.join(d, 'no-such-pricing.json'), LOG_FILE: path.join(d, 'logs', 'x.log') }),
      /PRICING_FILE: .*does not exist/,
    ],
  ])('checks every path setting before anything is created: %s exits 1 naming it', async (_name, env, message) => {
    const dir = freshDir();
    await checkedBeforeDataDir(env(dir), message);
    // Nothing else was created either (the log file's folder, in the PRICING_FILE case).
    expect(readdirSync(dir).filter((f) => f !== 'not-a-dir')).toEqual([]);
  });

  it('names every path setting that cannot be used, in one message', async () => {
    const dir = freshDir();
    await checkedBeforeDataDir(
      { LOG_FILE: `${file(dir)}/proxy.log`, AUDIT_LOG_FILE: '/proc/llmp-no-such/audit.log' },
      /LOG_FILE: cannot create .*\n\s+AUDIT_LOG_FILE: cannot create /,
    );
  });

  it.each([['migrate'], ['admin-user', 'list']])(
    '`%s` too checks DATA_DIR before it creates anything',
    async (...args) => {
      await checkedBeforeDataDir(
        { DATA_DIR: '/proc/llmp-no-such/data' },
        /DATA_DIR: cannot create .*kernel file system/,
        args,
      );
    },
  );

  it('refuses a LISTEN_ADDR in use before DATA_DIR is touched', async () => {
    const busy = await new Promise<import('node:net').Server>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => resolve(srv));
    });
    try {
      const busyPort = (busy.address() as import('node:net').AddressInfo).port;
      await checkedBeforeDataDir(
        { LISTEN_ADDR: `127.0.0.1:${busyPort}` },
        /LISTEN_ADDR: cannot listen on 127\.0\.0\.1:\d+: the address is already in use/,
      );
    } finally {
      busy.close();
    }
  });

  it('leaves an existing, empty DATA_DIR empty when a setting is bad', async () => {
    const dataDir = freshDir();
    expect((await spawnCli(['serve'], { DATA_DIR: dataDir, LISTEN_ADDR: ':99999' })).code).toBe(1);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  // AUTO_MIGRATE=false: refused without `migrate`, and started after it.
  const unmigrated = () => ({ DATA_DIR: freshDir(), AUTO_MIGRATE: 'false', LISTEN_ADDR: '127.0.0.1:0' });

  it('with AUTO_MIGRATE=false refuses to start on an unmigrated database, naming `llm-proxy migrate`', async () => {
    const refused = await spawnCli(['serve'], unmigrated());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('llm-proxy migrate');
  });

  it('`migrate` applies every migration once, then says the database is up to date', async () => {
    const env = unmigrated();
    const migrated = await runCli(['migrate'], env);
    expect(migrated).toMatchObject({
      code: 0,
      stdout:
        'applied: 0001-initial, 0002-usage-records, 0003-limits-and-rollups, 0004-max-concurrent, 0005-audit-events, 0006-admin-access, 0007-changes, 0008-usage-partitions, 0009-leases, 0010-limit-counters, 0011-instances, 0012-project-keys, 0013-retries, 0014-cache, 0015-idempotency-keys, 0016-key-http2, 0017-nano-usd, 0018-billed-units, 0019-tracked-jobs, 0020-upstream-request-id\n',
    });
    expect((await runCli(['migrate'], env)).stdout).toBe('database is up to date\n');
  });

  it('with AUTO_MIGRATE=false starts on a database that `migrate` has brought up to date', async () => {
    const env = unmigrated();
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const srv = await spawnServe(env);
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toBe(0);
  });
});

describe('a broken installation', () => {
  it('without its built-in price table, serve exits 1 saying so (not naming PRICING_FILE, which is unset)', async () => {
    // The package's dist/ beside no pricing/ folder: what a partial copy of the package looks like.
    const pkg = freshDir();
    cpSync(path.resolve('dist'), path.join(pkg, 'dist'), { recursive: true });
    cpSync(path.resolve('package.json'), path.join(pkg, 'package.json'));
    symlinkSync(path.resolve('node_modules'), path.join(pkg, 'node_modules'));
    const child = spawn(process.execPath, [path.join(pkg, 'dist/cli/main.js'), 'serve'], {
      env: childEnv({ DATA_DIR: path.join(pkg, 'data'), LISTEN_ADDR: '127.0.0.1:0' }),
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(
      'the built-in price table is missing or damaged (reinstall llm-proxy, or set PRICING_FILE)',
    );
    expect(stderr).not.toContain('PRICING_FILE: cannot read');
  });
});
