import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/crypto/ids.js';
import type { UsageRecord } from '../src/usage/usage-writer.js';
import { runCli } from './helpers/cli.js';
import { type ProxyStack, startProxyStack, until } from './helpers/proxy.js';
import { usageRecord } from './helpers/rows.js';
import { startTestServer } from './helpers/server.js';

const DAY = 86_400_000;
const messages = [{ role: 'user' as const, content: 'hi' }];

function record(over: Partial<UsageRecord> & Pick<UsageRecord, 'tokenId' | 'projectId' | 'createdAt'>): UsageRecord {
  return usageRecord(over.tokenId, over.projectId, {
    id: uuidv7(over.createdAt),
    model: 'gpt-4o-mini',
    completionTokens: 20,
    totalTokens: 30,
    cachedTokens: 0,
    reasoningTokens: 0,
    upstreamMs: 5,
    ttfbMs: 6,
    durationMs: 7,
    costNanoUsd: 15,
    ...over,
  });
}

/** Status of one chat completion through the proxy with this token, and the error message if any. */
async function call(st: ProxyStack, token: string): Promise<{ status: number; message?: string }> {
  const res = await st.proxy('/v1/chat/completions', {
    token,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
  });
  const body = (await res.json()) as { error?: { message: string } };
  return { status: res.status, ...(body.error ? { message: body.error.message } : {}) };
}

async function countRecords(st: ProxyStack, before?: number): Promise<number> {
  let q = st.s.server.runtime.db.selectFrom('usage_records').select((eb) => eb.fn.countAll<number>().as('n'));
  if (before !== undefined) q = q.where('created_at', '<', before);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

describe('maintenance pass (run on demand)', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({
      env: { MAINTENANCE_INTERVAL_MS: '0', USAGE_RETENTION_DAYS: '7', TOKEN_RETENTION_DAYS: '3', LOG_LEVEL: 'info' },
    });
  });
  afterAll(async () => st?.stop());

  it('deletes raw usage records past retention in batches; the rollups keep their sums', async () => {
    const { runtime } = st.s.server;
    const now = Date.now();
    for (let i = 0; i < 2600; i++) {
      runtime.usage.record(
        record({ tokenId: st.tokenId, projectId: st.projectId, createdAt: now - 10 * DAY + i * 1000 }),
      );
    }
    for (let i = 0; i < 300; i++) {
      runtime.usage.record(
        record({ tokenId: st.tokenId, projectId: st.projectId, createdAt: now - DAY + i * 1000, model: 'o3' }),
      );
    }
    await runtime.usage.flush();
    const cutoff = now - 7 * DAY;
    expect(await countRecords(st, cutoff)).toBe(2600);
    const before = await Promise.all(
      ['', '?group_by=day', '?group_by=model', `?token_id=${st.tokenId}&group_by=hour`].map(
        async (q) => (await st.s.manage('GET', `/usage${q}`)).body,
      ),
    );
    expect(before[0].totals.requests).toBe(2900);

    const report = await runtime.maintenance.runOnce();
    expect(report).toMatchObject({ usage_records_deleted: 2600, errors: [] });
    expect(await countRecords(st, cutoff)).toBe(0);
    expect(await countRecords(st)).toBe(300);
    const after = await Promise.all(
      ['', '?group_by=day', '?group_by=model', `?token_id=${st.tokenId}&group_by=hour`].map(
        async (q) => (await st.s.manage('GET', `/usage${q}`)).body,
      ),
    );
    expect(after).toEqual(before);
    expect((await st.s.manage('GET', `/tokens/${st.tokenId}`)).body.usage.requests).toBe(2900);
    expect(st.s.logs()).toMatch(/"usage_records_deleted":2600.*"msg":"maintenance pass"/);

    expect(await runtime.maintenance.runOnce()).toMatchObject({ usage_records_deleted: 0, tokens_deleted: 0 });
  });

  it('deactivates expired tokens, deletes tokens ended before TOKEN_RETENTION_DAYS, keeps their usage', async () => {
    const { runtime } = st.s.server;
    const db = runtime.db;
    const issue = async (name: string) => st.issueToken({ name, duration_minutes: 60 });
    const expiring = await issue('expiring');
    const oldRevoked = await issue('old-revoked');
    const oldExpired = await issue('old-expired');
    const recentRevoked = await issue('recent-revoked');
    const active = await issue('active');
    // Use the tokens first: their identities are now cached, and old-revoked has usage.
    for (const t of [expiring, oldRevoked, oldExpired, recentRevoked, active])
      expect((await call(st, t.token)).status).toBe(200);
    await st.waitUsage(oldRevoked.id, 1);

    const now = Date.now();
    await db
      .updateTable('tokens')
      .set({ expires_at: now - 1000 })
      .where('id', '=', expiring.id)
      .execute();
    await st.s.manage('DELETE', `/tokens/${oldRevoked.id}`);
    await db
      .updateTable('tokens')
      .set({ revoked_at: now - 5 * DAY })
      .where('id', '=', oldRevoked.id)
      .execute();
    await db
      .updateTable('tokens')
      .set({ expires_at: now - 5 * DAY })
      .where('id', '=', oldExpired.id)
      .execute();
    await st.s.manage('DELETE', `/tokens/${recentRevoked.id}`);
    const usageBefore = (await st.s.manage('GET', `/usage?token_id=${oldRevoked.id}`)).body.totals;
    expect(usageBefore.requests).toBe(1);

    const report = await runtime.maintenance.runOnce();
    expect(report).toMatchObject({ tokens_deactivated: 2, tokens_deleted: 2, errors: [] });

    // Deactivated, but still shown as expired (not revoked); the cached identity was dropped.
    expect((await st.s.manage('GET', `/tokens/${expiring.id}`)).body).toMatchObject({
      is_active: false,
      status: 'expired',
      revoked_at: null,
    });
    expect(await call(st, expiring.token)).toEqual({
      status: 401,
      message: 'Incorrect API key provided: the token has expired.',
    });
    for (const gone of [oldRevoked, oldExpired]) {
      expect((await st.s.manage('GET', `/tokens/${gone.id}`)).status).toBe(404);
      expect((await call(st, gone.token)).status).toBe(401);
    }
    expect((await st.s.manage('GET', `/tokens/${recentRevoked.id}`)).body.status).toBe('revoked');
    expect((await st.s.manage('GET', `/tokens/${active.id}`)).body.status).toBe('active');
    expect((await call(st, active.token)).status).toBe(200);

    // The usage of a deleted token stays, in the rollups and the raw records.
    expect((await st.s.manage('GET', `/usage?token_id=${oldRevoked.id}`)).body.totals).toEqual(usageBefore);
    const byToken = (await st.s.manage('GET', '/usage?group_by=token')).body.data;
    expect(byToken.find((g: { token_id: string }) => g.token_id === oldRevoked.id)).toMatchObject({
      token_name: null,
      project_name: 'main',
    });
    expect(await runtime.usageRepo.listByToken(oldRevoked.id)).toHaveLength(1);

    // Extending the expiry of a token the job deactivated makes it work again; revoking it records revoked_at.
    const extended = await st.s.manage('PATCH', `/tokens/${expiring.id}`, { duration_minutes: 10 });
    expect(extended.body).toMatchObject({ is_active: true, status: 'active' });
    expect((await call(st, expiring.token)).status).toBe(200);
    await db
      .updateTable('tokens')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', expiring.id)
      .execute();
    await runtime.maintenance.runOnce();
    const revoked = await st.s.manage('DELETE', `/tokens/${expiring.id}`);
    expect(revoked.status).toBe(204);
    expect((await st.s.manage('GET', `/tokens/${expiring.id}`)).body).toMatchObject({ status: 'revoked' });
  });
});

describe('maintenance in the background (MAINTENANCE_INTERVAL_MS)', () => {
  it('runs every interval: an expired token is deactivated and refused without any request touching it', async () => {
    const st = await startProxyStack({ env: { MAINTENANCE_INTERVAL_MS: '100', LOG_LEVEL: 'info' } });
    try {
      expect(st.s.server.runtime.maintenance.active).toBe(true);
      const t = await st.issueToken({ duration_minutes: 60 });
      expect((await call(st, t.token)).status).toBe(200);
      await st.s.server.runtime.db
        .updateTable('tokens')
        .set({ expires_at: Date.now() - 1 })
        .where('id', '=', t.id)
        .execute();
      await until(async () => (await st.s.manage('GET', `/tokens/${t.id}`)).body.is_active === false);
      expect(st.s.logs()).toMatch(/"tokens_deactivated":1.*"msg":"maintenance pass"/);
      expect((await call(st, t.token)).status).toBe(401);
    } finally {
      // Stopping waits for a pass in progress and leaves nothing scheduled.
      await st.stop();
      expect(st.s.server.runtime.maintenance.active).toBe(false);
    }
  });

  it('MAINTENANCE_INTERVAL_MS=0 turns the job off', async () => {
    const st = await startProxyStack({ env: { MAINTENANCE_INTERVAL_MS: '0', USAGE_RETENTION_DAYS: '1' } });
    try {
      const t = await st.issueToken({ duration_minutes: 60 });
      await st.s.server.runtime.db
        .updateTable('tokens')
        .set({ expires_at: Date.now() - 1 })
        .where('id', '=', t.id)
        .execute();
      st.s.server.runtime.usage.record(
        record({ tokenId: t.id, projectId: st.projectId, createdAt: Date.now() - 30 * DAY }),
      );
      await st.s.server.runtime.usage.flush();
      // Nothing scheduled, now or later (not: nothing happened yet).
      expect(st.s.server.runtime.maintenance.active).toBe(false);
      expect((await st.s.manage('GET', `/tokens/${t.id}`)).body).toMatchObject({ is_active: true, status: 'expired' });
      expect(await countRecords(st)).toBe(1);
      expect(st.s.logs()).not.toContain('maintenance pass');
    } finally {
      await st.stop();
    }
  });
});

describe('llm-proxy maintenance (one pass from the command line)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-maint-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs one pass against the database and exits 0', async () => {
    const env = { DATA_DIR: dataDir, MAINTENANCE_INTERVAL_MS: '0' };
    const s = await startTestServer(env);
    const projectId = (await s.manage('POST', '/projects', { name: 'cron', api_key: 'sk-x' })).body.id;
    const token = (await s.manage('POST', '/tokens', { project_id: projectId, duration_minutes: 5 })).body;
    const old = (await s.manage('POST', '/tokens', { project_id: projectId })).body;
    await s.manage('DELETE', `/tokens/${old.id}`);
    const db = s.server.runtime.db;
    await db
      .updateTable('tokens')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', token.id)
      .execute();
    await db
      .updateTable('tokens')
      .set({ revoked_at: Date.now() - 60 * DAY })
      .where('id', '=', old.id)
      .execute();
    for (let i = 0; i < 1500; i++) {
      s.server.runtime.usage.record(
        record({ tokenId: token.id, projectId: projectId, createdAt: Date.now() - 200 * DAY + i }),
      );
    }
    await s.server.runtime.usage.flush();
    await s.stop();

    const res = await runCli(['maintenance'], { DATA_DIR: dataDir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('deleted 1500 usage record(s) older than 90 day(s)');
    expect(res.stdout).toContain('deactivated 1 expired token(s)');
    expect(res.stdout).toContain('deleted 1 token(s) that ended more than 30 day(s) ago');

    const again = await runCli(['maintenance', '--usage-retention-days', '0', '--token-retention-days', '0'], {
      DATA_DIR: dataDir,
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('usage retention off');
    expect(again.stdout).toContain('deactivated 0 expired token(s)');
    expect(again.stdout).toContain('deleted 0 ended admin session(s)');

    const check = await startTestServer(env);
    try {
      expect((await check.manage('GET', `/tokens/${token.id}`)).body).toMatchObject({
        is_active: false,
        status: 'expired',
      });
      expect((await check.manage('GET', `/tokens/${old.id}`)).status).toBe(404);
      expect((await check.manage('GET', `/usage?project_id=${projectId}`)).body.totals.requests).toBe(1500);
    } finally {
      await check.stop();
    }

    const broken = await runCli(['maintenance'], { DATA_DIR: dataDir, USAGE_RETENTION_DAYS: 'many' });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('USAGE_RETENTION_DAYS');
  });
});
