import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { runCli, type ServeProcess, spawnCli } from '../helpers/cli.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { serveFixture } from '../helpers/serve-fixture.js';
import { callManage } from '../helpers/server.js';

/**
 * `llm-proxy backup` of a SQLite store while a real server serves a steady stream of proxied
 * requests and management changes, then `llm-proxy restore` of it once that server crashed, and a
 * new server on the restored database: every row committed before the backup began is in it, and
 * its projects' upstream keys still work.
 */
const MANAGEMENT_TOKEN = 'a-management-token-for-backup-tests';
const fx = serveFixture('llmp-backup-', MANAGEMENT_TOKEN, { USAGE_FLUSH_INTERVAL_MS: '20' });

const manage = async (srv: ServeProcess, method: string, route: string, body?: unknown) =>
  callManage(srv.url, MANAGEMENT_TOKEN, method, route, body);

const client = (srv: ServeProcess, token: string) =>
  new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: token, maxRetries: 0 });

const chat = (srv: ServeProcess, token: string) =>
  client(srv, token).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'back me up' }],
    max_tokens: 5,
  });

/** Reads a database file with a connection of its own, closed before returning. */
function read<T>(file: string, fn: (db: SQLite.Database) => T): T {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
const ids = (db: SQLite.Database, sql: string) => (db.prepare(sql).all() as Array<{ id: string }>).map((r) => r.id);

describe('backup and restore of a SQLite store under load', () => {
  it('backs up while serving, refuses to restore over the running server, and restores after it crashed', async () => {
    const database = path.join(fx.dataDir, 'llm-proxy.db');
    const backupFile = path.join(fx.root, 'backups', 'llm-proxy.db');
    let srv = await fx.serve();
    const projects: Array<{ id: string; token: string }> = [];
    for (const name of ['alpha', 'beta']) {
      const p = await manage(srv, 'POST', '/projects', { name, api_key: UPSTREAM_KEY });
      expect(p.status).toBe(201);
      const t = await manage(srv, 'POST', '/tokens', { project_id: p.body.id, name: `${name}-first` });
      expect(t.status).toBe(201);
      projects.push({ id: p.body.id, token: t.body.token });
    }

    // The load: proxied requests on both projects, and tokens issued, renamed and revoked, until told to stop.
    let stop = false;
    let served = 0;
    const issued: Array<{ id: string; token: string }> = [];
    const revoked = new Set<string>();
    const failures: string[] = [];
    const requests = projects.map(async (p) => {
      while (!stop) {
        try {
          await chat(srv, p.token);
          served++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    });
    const changes = (async () => {
      for (let i = 0; !stop; i++) {
        const project = projects[i % projects.length] as { id: string };
        const t = await manage(srv, 'POST', '/tokens', { project_id: project.id, name: `load-${i}` });
        if (t.status !== 201) {
          failures.push(`token: ${t.status}`);
          continue;
        }
        issued.push({ id: t.body.id, token: t.body.token });
        if (i % 3 === 0) await manage(srv, 'PATCH', `/tokens/${t.body.id}`, { name: `load-${i}-renamed` });
        if (i % 5 === 0) {
          await manage(srv, 'DELETE', `/tokens/${t.body.id}`);
          revoked.add(t.body.id);
        }
      }
    })();
    const stored = () =>
      read(database, (db) => (db.prepare('select count(*) as n from usage_records').get() as { n: number }).n);
    await until(() => served >= 20 && issued.length >= 5 && stored() >= 10);

    // A reader pins its snapshot, so what is committed from now on stays in the WAL, past the reach
    // of a checkpoint, until it ends: a backup that copied the database file alone would lack it.
    const pin = new SQLite(database, { readonly: true });
    pin.exec('BEGIN');
    pin.prepare('select count(*) from tokens').get();
    const marked = issued.length;
    await until(() => issued.length >= marked + 3);
    // What was committed before the backup began: the tokens the API confirmed, the usage rows stored.
    const before = {
      tokens: issued.map((t) => t.id),
      usage: read(database, (db) => ids(db, 'select request_id as id from usage_records')),
    };
    // A process of its own, as an operator runs it: the load goes on while it copies.
    const backup = await spawnCli(['backup', backupFile, '--data-dir', fx.dataDir], fx.env());
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/^backup written: .*llm-proxy\.db \([\d.]+ KiB\), a consistent copy of /);
    expect(backup.stdout).toMatch(/^rows: projects 2, tokens \d+, usage_records \d+/m);
    expect(backup.stdout).toMatch(/NOT in the backup: the encryption key.*it is the ENCRYPTION_KEY setting/);

    // The load goes on after the backup: what it writes now is not in the backup.
    pin.exec('COMMIT');
    pin.close();
    const issuedBefore = issued.length;
    await until(() => issued.slice(issuedBefore).filter((t) => !revoked.has(t.id)).length >= 3);

    const copy = read(backupFile, (db) => ({
      integrity: db.pragma('integrity_check', { simple: true }),
      tokens: new Set(ids(db, 'select id from tokens')),
      usage: new Set(ids(db, 'select request_id as id from usage_records')),
      projects: ids(db, 'select id from projects order by name'),
    }));
    expect(copy.integrity).toBe('ok');
    expect(before.usage.length).toBeGreaterThan(0);
    expect(before.tokens.filter((id) => !copy.tokens.has(id))).toEqual([]);
    expect(before.usage.filter((id) => !copy.usage.has(id))).toEqual([]);
    expect(copy.projects).toEqual(projects.map((p) => p.id));
    const afterBackup = issued.slice(issuedBefore).filter((t) => !copy.tokens.has(t.id));
    expect(afterBackup.length).toBeGreaterThan(0);

    // A restore over the database the server has open is refused, and the server keeps serving it.
    const refused = await runCli(['restore', backupFile, '--data-dir', fx.dataDir], fx.env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/restore refused: .*llm-proxy\.db is open in another process/);
    expect(readdirSync(fx.dataDir).filter((f) => f.includes('before-restore'))).toEqual([]);
    await chat(srv, projects[0]?.token as string);

    stop = true;
    await Promise.all([...requests, changes]);
    expect(failures).toEqual([]);

    // The server crashes: no process is left to hold the database, and the journal holds its last records.
    srv.child.kill('SIGKILL');
    await srv.exited;
    const journal = path.join(fx.dataDir, 'journal');
    // The segment being written always exists, with at least its header line.
    expect(readdirSync(journal).length).toBeGreaterThan(0);
    const restored = await runCli(['restore', backupFile, '--data-dir', fx.dataDir], fx.env());
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/upstream keys: 2 decrypt with the configured encryption key/);
    expect(restored.stdout).toMatch(/moved aside: .*llm-proxy\.db -> .*llm-proxy\.db\.before-restore-\d{8}T\d{6}Z\n/);
    expect(restored.stdout).toMatch(/restored: .*llm-proxy\.db\n/);
    const aside = readdirSync(fx.dataDir).filter((f) => /^llm-proxy\.db\.before-restore-\d{8}T\d{6}Z$/.test(f));
    expect(aside).toHaveLength(1);
    // The old database is kept whole: it has the tokens issued after the backup.
    const old = read(path.join(fx.dataDir, aside[0] as string), (db) => new Set(ids(db, 'select id from tokens')));
    expect(afterBackup.filter((t) => !old.has(t.id))).toEqual([]);
    expect(restored.stdout).toContain(`moved aside: ${journal} -> ${journal}.before-restore-`);
    expect(restored.stdout).toMatch(
      /journal\.before-restore-\d{8}T\d{6}Z \(its usage records belong to the replaced database/,
    );
    expect(existsSync(journal)).toBe(false);

    // A new server on the restored database: the backup's tokens work through its projects' keys.
    srv = await fx.serve();
    for (const p of projects) {
      const reply = await chat(srv, p.token);
      expect(reply.choices[0]?.message.content).toBeTruthy();
    }
    // A token issued (and not revoked) after the backup does not exist in the restored database.
    const lost = afterBackup.find((t) => !revoked.has(t.id)) as { token: string };
    await expect(chat(srv, lost.token)).rejects.toMatchObject({ status: 401 });
    // The crashed server's registry row was in the backup; the restore forgot it.
    const pids = async () => (await manage(srv, 'GET', '/instances')).body.data.map((i: { pid: number }) => i.pid);
    await until(async () => (await pids()).includes(srv.child.pid));
    expect(await pids()).toEqual([srv.child.pid]);
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toBe(0);
  });
});
