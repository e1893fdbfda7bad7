import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import type { AuditEventRow } from '../../src/store/schema.js';
import { runCli } from '../helpers/cli.js';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { auditEvents, dbEnv } from './helpers.js';

const DAY = 86_400_000;
const key = () => randomBytes(32).toString('base64');

/**
 * `llm-proxy audit verify` against the database, as an operator runs it: passes on an intact chain
 * and after retention, reports the first edited, deleted or inserted row with its seq and id.
 */
describe.each(DIALECTS)('audit verify on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let st: ProxyStack | undefined;
  let s2: TestServer | undefined;
  let db: Db;
  const oldKey = key();
  const newKey = key();
  const now = Date.UTC(2026, 6, 1, 12);
  const clock = manualClock(now - 400 * DAY);
  /** Events written 400 days ago. */
  let old = 0;

  const verify = async (env: Record<string, string> = {}) => {
    const res = await runCli(['audit', 'verify'], { ...dbEnv(tdb as TestDatabase, oldKey), ...env });
    return { ...res, out: res.stdout.trim() };
  };
  const row = async (seq: number) =>
    (await db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow()) as AuditEventRow;
  const count = async () =>
    Number(
      (
        await db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    st = await startProxyStack({
      env: {
        ...dbEnv(tdb, oldKey),
        MAINTENANCE_INTERVAL_MS: '0',
        AUDIT_RETENTION_DAYS: '365',
        TOKEN_RETENTION_DAYS: '30',
      },
      clock: clock.now,
    });
    const p = await st.s.manage('POST', '/projects', { name: 'verified', api_key: 'sk-verified-key-0000' });
    await st.s.manage('PATCH', `/projects/${p.body.id}`, { name: 'verified-2', max_concurrent: 4 });
    const t = await st.issueToken({ name: 'short-lived' });
    await st.s.manage('PATCH', `/tokens/${t.id}`, { requests_per_minute: 10 });
    await st.s.manage('DELETE', `/tokens/${t.id}`);
    await st.s.manage('PUT', '/pricing/verified-model', { input: 1, output: 1 });
    await fetch(`${st.url}/manage/projects`);
    db = openDatabase(tdb.config);
    old = await count();
  });
  afterAll(async () => {
    await st?.stop();
    await s2?.stop();
    await db?.destroy();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  it('passes on an intact chain, with the count', async () => {
    expect(old).toBe(9);
    const res = await verify();
    expect(res.code, res.stderr).toBe(0);
    expect(res.out).toBe('OK: 9 audit event(s) verified (seq 1–9), the chain is unbroken to its head');
    const json = await runCli(['audit', 'verify', '--json'], dbEnv(tdb as TestDatabase, oldKey));
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, events: 9, firstSeq: 1, lastSeq: 9, prunedThrough: null });
  });

  it('reports an edited row: its fields, or its hash', async () => {
    const r = await row(3);
    await db
      .updateTable('audit_events')
      .set({ changes: (r.changes as string).replace('"verified"', '"someone-else"') })
      .where('seq', '=', 3)
      .execute();
    let res = await verify();
    expect(res.code).toBe(1);
    expect(res.out).toMatch(new RegExp(`^BROKEN at seq 3 \\(id ${r.id}\\): edited\\n  seq 3 .*was edited`));
    expect(res.stderr).toBe('llm-proxy: the audit chain is broken at seq 3 (edited)\n');
    await db.updateTable('audit_events').set({ changes: r.changes }).where('seq', '=', 3).execute();

    const last = await row(old);
    await db.updateTable('audit_events').set({ action: 'project.created' }).where('seq', '=', old).execute();
    res = await verify();
    expect(res.out).toMatch(new RegExp(`^BROKEN at seq ${old} \\(id ${last.id}\\): edited`));
    await db.updateTable('audit_events').set({ action: last.action }).where('seq', '=', old).execute();

    const r4 = await row(4);
    await db
      .updateTable('audit_events')
      .set({ hash: 'f'.repeat(64) })
      .where('seq', '=', 4)
      .execute();
    res = await verify();
    expect(res.out).toMatch(new RegExp(`^BROKEN at seq 4 \\(id ${r4.id}\\): edited`));
    await db.updateTable('audit_events').set({ hash: r4.hash }).where('seq', '=', 4).execute();
    expect((await verify()).code).toBe(0);
  });

  it('reports a deleted row, in the middle or at the end', async () => {
    const r5 = await row(5);
    await db.deleteFrom('audit_events').where('seq', '=', 5).execute();
    let res = await verify();
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/^BROKEN at seq 5: deleted\n {2}seq 5 is missing \(between seq 4 and 6\)/);
    await db.insertInto('audit_events').values(r5).execute();

    const last = await row(old);
    await db.deleteFrom('audit_events').where('seq', '=', old).execute();
    res = await verify();
    expect(res.out).toMatch(
      new RegExp(
        `^BROKEN at seq ${old}: deleted\\n  events ${old}–${old} are missing: the chain's head is at seq ${old}`,
      ),
    );
    await db.insertInto('audit_events').values(last).execute();
    expect((await verify()).code).toBe(0);
  });

  it('reports an inserted row, at the end or in the middle (the rows after renumbered)', async () => {
    const tail = await row(old);
    const forged = (seq: number, prev: string): AuditEventRow => ({
      ...tail,
      id: uuidv7(),
      seq,
      action: 'project.deleted',
      prev_hash: prev,
      hash: randomBytes(32).toString('hex'),
    });
    const end = forged(old + 1, tail.hash);
    await db.insertInto('audit_events').values(end).execute();
    let res = await verify();
    expect(res.code).toBe(1);
    expect(res.out).toMatch(
      new RegExp(`^BROKEN at seq ${old + 1} \\(id ${end.id}\\): inserted\\n  .*beyond the chain's head`),
    );
    await db.deleteFrom('audit_events').where('id', '=', end.id).execute();

    // Make room after seq 3 (in two steps, so the unique seq never collides) and slip a row in.
    await db
      .updateTable('audit_events')
      .set((eb) => ({ seq: eb('seq', '+', 1000) }))
      .where('seq', '>', 3)
      .execute();
    await db
      .updateTable('audit_events')
      .set((eb) => ({ seq: eb('seq', '-', 999) }))
      .where('seq', '>', 1000)
      .execute();
    const middle = forged(4, (await row(3)).hash);
    await db.insertInto('audit_events').values(middle).execute();
    res = await verify();
    expect(res.out).toMatch(
      new RegExp(`^BROKEN at seq 4 \\(id ${middle.id}\\): inserted\\n  .*not written by the proxy`),
    );
    await db.deleteFrom('audit_events').where('id', '=', middle.id).execute();
    await db
      .updateTable('audit_events')
      .set((eb) => ({ seq: eb('seq', '+', 1000) }))
      .where('seq', '>', 4)
      .execute();
    await db
      .updateTable('audit_events')
      .set((eb) => ({ seq: eb('seq', '-', 1001) }))
      .where('seq', '>', 1000)
      .execute();
    expect((await verify()).code).toBe(0);
  });

  it('refuses to vouch without the key that signed: another key, or none', async () => {
    const res = await verify({ ENCRYPTION_KEY: newKey });
    expect(res.code).toBe(1);
    expect(res.out).toMatch(
      /^BROKEN at seq 1 \(id \S+\): unknown_key\n {2}seq 1 was signed with key [0-9a-f]{8}, which is not configured/,
    );
    if (tdb?.config.kind === 'sqlite') {
      const none = await runCli(['audit', 'verify'], {
        DATABASE_URL: `sqlite:${tdb.config.path}`,
        DATA_DIR: tdb.config.path,
      });
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/No encryption key: ENCRYPTION_KEY is not set and .* does not exist/);
    }
  });

  it('passes after retention removed the oldest events, and still sees one deleted past the anchor', async () => {
    const { runtime } = (st as ProxyStack).s.server;
    clock.advance(400 * DAY);
    const report = await runtime.maintenance.runOnce();
    expect(report.errors).toEqual([]);
    // The revoked token, ended 400 days ago, went too: its deletion is an event of this day.
    expect(report.tokens_deleted).toBe(1);
    expect(report.audit_events_deleted).toBe(old);
    const left = await auditEvents((st as ProxyStack).s);
    expect(left.map((e) => [e.seq, e.action, e.actor_type, e.actor_id])).toEqual([
      [old + 1, 'token.deleted', 'system', 'maintenance'],
      [old + 2, 'audit.pruned', 'system', 'maintenance'],
    ]);
    const lastRemoved = left[1]?.details as Record<string, unknown>;
    expect(lastRemoved).toMatchObject({
      through_seq: old,
      events: old,
      before: new Date(now - (now % DAY) - 365 * DAY).toISOString(),
    });
    expect(lastRemoved.last_hash).toBe(left[0]?.prev_hash);

    const res = await verify();
    expect(res.code, res.out).toBe(0);
    expect(res.out).toBe(
      `OK: 2 audit event(s) verified (seq ${old + 1}–${old + 2}), the chain is unbroken to its head; events up to seq ${old} were removed by retention, each removal anchored by an audit.pruned event`,
    );

    const first = await row(old + 1);
    await db
      .deleteFrom('audit_events')
      .where('seq', '=', old + 1)
      .execute();
    const cut = await verify();
    expect(cut.code).toBe(1);
    expect(cut.out).toMatch(
      new RegExp(
        `^BROKEN at seq ${old + 1}: deleted\\n  the chain starts at seq ${old + 2}: .*no audit.pruned event accounts for them`,
      ),
    );
    await db.insertInto('audit_events').values(first).execute();
  });

  it('verifies across an ENCRYPTION_KEY rotation with the old key in ENCRYPTION_KEY_PREVIOUS; rekey is an event', async () => {
    await st?.stop();
    st = undefined;
    s2 = await startTestServer({
      ...dbEnv(tdb as TestDatabase, newKey),
      ENCRYPTION_KEY_PREVIOUS: oldKey,
      MAINTENANCE_INTERVAL_MS: '0',
    });
    expect(await s2.server.runtime.projects.rekey()).toBe(2);
    await s2.manage('POST', '/projects', { name: 'after-rotation', api_key: 'sk-after-rotation-0000' });
    const events = await auditEvents(s2);
    const rekeyed = events.find((e) => e.action === 'encryption.rekeyed');
    expect(rekeyed).toMatchObject({
      actor_type: 'system',
      actor_id: 'cli',
      details: { projects: 2, key_id: s2.server.runtime.secrets.keyring.currentId },
    });
    expect(new Set(events.map((e) => e.key_id)).size).toBe(2);

    const both = await verify({ ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey });
    expect(both.code, both.out).toBe(0);
    expect(both.out).toMatch(/^OK: 4 audit event\(s\) verified/);
    const onlyNew = await verify({ ENCRYPTION_KEY: newKey });
    expect(onlyNew.code).toBe(1);
    expect(onlyNew.out).toMatch(new RegExp(`^BROKEN at seq ${old + 1} .*unknown_key`));
  });
});
