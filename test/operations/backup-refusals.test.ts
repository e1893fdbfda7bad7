import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, keyId } from '../../src/crypto/keyring.js';
import { restoreSqlite } from '../../src/maintenance/restore.js';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { runCli } from '../helpers/cli.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { startTestServer } from '../helpers/server.js';

/**
 * What `backup` and `restore` refuse, each with a message that says what to do, and the lost-key
 * recovery: a restore without the key, then the upstream keys set again.
 */
const KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('base64');
const MANAGEMENT_TOKEN = 'a-management-token-for-restore-tests';

let root: string;
let mock: MockUpstream;
/** A backup of a store with two projects, made with KEY, and a token of the first project. */
let backupFile: string;
let token: string;
let projectIds: string[];

const hash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const freshDir = (name: string) => {
  const dir = path.join(root, name);
  mkdirSync(dir);
  return dir;
};

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'llmp-restore-'));
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  const dataDir = freshDir('source');
  const s = await startTestServer({ DATA_DIR: dataDir, ENCRYPTION_KEY: KEY, OPENAI_API_URL: mock.url });
  try {
    projectIds = [];
    for (const name of ['alpha', 'beta']) {
      const p = await s.manage('POST', '/projects', { name, api_key: UPSTREAM_KEY });
      projectIds.push(p.body.id);
    }
    token = (await s.manage('POST', '/tokens', { project_id: projectIds[0] })).body.token;
  } finally {
    await s.stop();
  }
  backupFile = path.join(root, 'backup.db');
  const r = await runCli(['backup', backupFile, '--data-dir', dataDir], { ENCRYPTION_KEY: KEY });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});
afterAll(async () => {
  await mock?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('backup', () => {
  it('refuses to overwrite a file, unless --force', async () => {
    const dataDir = freshDir('overwrite');
    await runCli(['migrate', '--data-dir', dataDir]);
    const target = path.join(root, 'taken.db');
    writeFileSync(target, 'precious');
    const r = await runCli(['backup', target, '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`llm-proxy: ${target} exists: give another file, or --force to replace it\n`);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    const forced = await runCli(['backup', target, '--force', '--data-dir', dataDir]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^rows: projects 0, tokens 0/m);
    // The reminder names the key file when ENCRYPTION_KEY is not set.
    expect(forced.stdout).toContain(
      `it is the file ${path.join(dataDir, 'encryption.key')} (not there yet: the first start writes it)`,
    );
    const copy = new SQLite(target, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
    // Nothing is left beside it.
    expect(readdirSync(root).filter((f) => f.startsWith('.taken.db'))).toEqual([]);
  });

  it('on PostgreSQL, prints the pg_dump command without the password', async () => {
    const env = { DATABASE_URL: 'postgres://proxy:s3cret-pw@db.internal:5432/llm_proxy', ENCRYPTION_KEY: KEY };
    const r = await runCli(['backup', 'nightly.dump'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "pg_dump --format=custom --file='nightly.dump' 'postgres://proxy@db.internal:5432/llm_proxy'",
    );
    const restore = await runCli(['restore', 'nightly.dump'], env);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain(
      "pg_restore --clean --if-exists --no-owner --single-transaction --dbname='postgres://proxy@db.internal:5432/llm_proxy' 'nightly.dump'",
    );
    expect(r.stderr + restore.stderr).not.toContain('s3cret-pw');
  });
});

describe('restore refuses', () => {
  /** A data directory with a database of its own, to show a refused restore leaves it as it was. */
  async function target(name: string): Promise<{ dataDir: string; db: string; before: string }> {
    const dataDir = freshDir(name);
    await runCli(['migrate', '--data-dir', dataDir]);
    const db = path.join(dataDir, 'llm-proxy.db');
    return { dataDir, db, before: hash(db) };
  }
  const untouched = (t: { dataDir: string; db: string; before: string }) => {
    expect(hash(t.db)).toBe(t.before);
    expect(readdirSync(t.dataDir).filter((f) => f !== 'llm-proxy.db')).toEqual([]);
  };

  it('a backup whose upstream keys the configured key cannot decrypt, naming the key id it needs', async () => {
    const t = await target('wrong-key');
    const r = await runCli(['restore', backupFile, '--data-dir', t.dataDir], { ENCRYPTION_KEY: OTHER_KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `llm-proxy: restore refused: the configured encryption key (key id ${keyId(Buffer.from(OTHER_KEY, 'base64'))}) ` +
        `cannot decrypt the backup's upstream keys: key id ${keyId(Buffer.from(KEY, 'base64'))} (2 project(s): alpha, beta).`,
    );
    expect(r.stderr).toContain('--skip-key-check');
    untouched(t);
    // With the backup's key among the previous ones, the check passes.
    const ok = await runCli(['restore', backupFile, '--check', '--data-dir', t.dataDir], {
      ENCRYPTION_KEY: OTHER_KEY,
      ENCRYPTION_KEY_PREVIOUS: KEY,
    });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('upstream keys: 2 decrypt with the configured encryption key');
    expect(ok.stdout).toContain(`check only: ${t.db} was not changed`);
    untouched(t);
  });

  it('a backup made by a newer version (a migration this one does not know)', async () => {
    const t = await target('newer');
    const newer = path.join(root, 'newer.db');
    copyFileSync(backupFile, newer);
    const db = new SQLite(newer);
    db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run(
      '9999-future',
      new Date().toISOString(),
    );
    db.close();
    const r = await runCli(['restore', newer, '--data-dir', t.dataDir], { ENCRYPTION_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `llm-proxy: restore refused: ${newer} was made by a newer or different version of llm-proxy (migrations this ` +
        'version does not know: 9999-future); restore it with that version or a later one\n',
    );
    untouched(t);
  });

  it('a SQLite database that is not llm-proxy’s, and a file that is not SQLite', async () => {
    const t = await target('foreign');
    const other = path.join(root, 'other.db');
    const notes = new SQLite(other);
    notes.exec('create table notes (body text)');
    notes.close();
    const r = await runCli(['restore', other, '--data-dir', t.dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /restore refused: .*other\.db cannot be restored: it is a SQLite database, but not one of llm-proxy/,
    );
    const text = path.join(root, 'notes.txt');
    writeFileSync(text, 'not a database');
    const r2 = await runCli(['restore', text, '--data-dir', t.dataDir]);
    expect(r2.stderr).toBe(`llm-proxy: restore refused: ${text} is not a SQLite database\n`);
    const r3 = await runCli(['restore', path.join(root, 'missing.db'), '--data-dir', t.dataDir]);
    expect(r3.stderr).toMatch(/restore refused: .*missing\.db: no such file/);
    untouched(t);
  });

  it('a database another host serves (its heartbeat is recent), but not one whose heartbeat stopped', async () => {
    const t = await target('elsewhere');
    const db = new SQLite(t.db);
    const row = db.prepare(
      `insert into instances (id, host, pid, version, listen, started_at, last_seen_at, in_flight, database_state)
       values (?, 'proxy-b.internal', 4242, '0.1.0', 'http://10.0.0.7:8080', ?, ?, 0, 'ok')`,
    );
    row.run('b', Date.now() - 60_000, Date.now());
    db.close();
    const before = hash(t.db);
    const r = await runCli(['restore', backupFile, '--data-dir', t.dataDir], { ENCRYPTION_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `llm-proxy: restore refused: ${t.db} is served by proxy-b.internal pid 4242 (http://10.0.0.7:8080) (a ` +
        'heartbeat within INSTANCE_GONE_AFTER_MS). Stop it, or, if it crashed, wait until its heartbeat is older ' +
        'than INSTANCE_GONE_AFTER_MS, then run restore again.\n',
    );
    expect(hash(t.db)).toBe(before);
    // Once its heartbeat is older than INSTANCE_GONE_AFTER_MS (30 s), the host is taken to be gone.
    const stale = new SQLite(t.db);
    stale.prepare('update instances set last_seen_at = ?').run(Date.now() - 31_000);
    stale.close();
    const ok = await runCli(['restore', backupFile, '--data-dir', t.dataDir], { ENCRYPTION_KEY: KEY });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('a damaged backup', async () => {
    const t = await target('damaged');
    const damaged = path.join(root, 'damaged.db');
    const bytes = readFileSync(backupFile);
    // Page 2 onwards overwritten: the header still says SQLite.
    bytes.fill(0x5a, 4096, 4096 * 3);
    writeFileSync(damaged, bytes);
    const r = await runCli(['restore', damaged, '--data-dir', t.dataDir], { ENCRYPTION_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /restore refused: .*damaged\.db cannot be restored: (it fails SQLite's integrity check|it cannot be read)/,
    );
    untouched(t);
  });
});

describe('restore keeps what it replaces', () => {
  it('two restores within one second keep both replaced databases and journals', async () => {
    const dataDir = freshDir('twice');
    await runCli(['migrate', '--data-dir', dataDir]);
    const journal = path.join(dataDir, 'journal');
    const options = {
      backup: backupFile,
      database: path.join(dataDir, 'llm-proxy.db'),
      journalDir: journal,
      keyring: () => new Keyring(Buffer.from(KEY, 'base64')),
      skipKeyCheck: false,
      checkOnly: false,
      goneAfterMs: 30_000,
      now: Date.UTC(2026, 11, 7, 12, 0, 0),
    };
    for (const n of [1, 2]) {
      mkdirSync(journal);
      writeFileSync(path.join(journal, 'usage-segment.jsonl'), `segment ${n}\n`);
      restoreSqlite(options);
    }
    expect(readdirSync(dataDir).sort()).toEqual([
      'journal.before-restore-20261207T120000Z',
      'journal.before-restore-20261207T120000Z-2',
      'llm-proxy.db',
      'llm-proxy.db.before-restore-20261207T120000Z',
      'llm-proxy.db.before-restore-20261207T120000Z-2',
    ]);
    expect(
      readFileSync(path.join(dataDir, 'journal.before-restore-20261207T120000Z', 'usage-segment.jsonl'), 'utf8'),
    ).toBe('segment 1\n');
  });
});

describe('restore of a copy taken with its write-ahead log', () => {
  it('folds the -wal file beside the backup in', async () => {
    const live = path.join(root, 'live.db');
    copyFileSync(backupFile, live);
    const db = new SQLite(live);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.prepare("update projects set name = 'gamma' where name = 'beta'").run();
    // Copied while open: the change is only in the -wal file.
    const copy = path.join(root, 'copied-live.db');
    copyFileSync(live, copy);
    copyFileSync(`${live}-wal`, `${copy}-wal`);
    db.close();
    const dataDir = freshDir('from-wal');
    const r = await runCli(['restore', copy, '--data-dir', dataDir], { ENCRYPTION_KEY: KEY });
    expect(r.stderr).toBe('');
    const restored = new SQLite(path.join(dataDir, 'llm-proxy.db'), { readonly: true });
    const names = restored.prepare('select name from projects order by name').pluck().all();
    restored.close();
    expect(names).toEqual(['alpha', 'gamma']);
    expect(readdirSync(dataDir).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('disaster recovery with a lost encryption key', () => {
  it('restores with --skip-key-check; the upstream keys set again, the old tokens work', async () => {
    const dataDir = freshDir('lost-key');
    const r = await runCli(['restore', backupFile, '--skip-key-check', '--data-dir', dataDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `upstream keys of 2 project(s) (key id ${keyId(Buffer.from(KEY, 'base64'))}) cannot be decrypted: set them again`,
    );
    // Nothing was there to move aside in a fresh data directory.
    expect(r.stdout).not.toContain('moved aside');
    expect(existsSync(path.join(dataDir, 'llm-proxy.db'))).toBe(true);

    const s = await startTestServer({
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: OTHER_KEY,
      OPENAI_API_URL: mock.url,
      MANAGEMENT_TOKEN,
    });
    const chat = () =>
      fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
    try {
      // Until its key is set again, a project's requests fail, and the log names the missing key id.
      const before = await chat();
      expect(before.status).toBe(500);
      expect(before.headers.get('x-should-retry')).toBe('false');
      expect(((await before.json()) as { error: { code: string } }).error.code).toBe('upstream_key_unreadable');
      expect(s.logs()).toContain(`no key with id ${keyId(Buffer.from(KEY, 'base64'))} in the keyring`);
      for (const id of projectIds) {
        const p = await s.manage('PATCH', `/projects/${id}`, { api_key: UPSTREAM_KEY });
        expect(p.status).toBe(200);
      }
      const res = await chat();
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    } finally {
      await s.stop();
    }
  });
});
