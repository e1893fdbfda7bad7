import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-view.js';
import { runCli } from '../helpers/cli.js';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS } from '../helpers/databases.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { auditEvents, stackOn } from './helpers.js';

const MINUTE = 60_000;

/** GET /manage/audit: filters, newest-first pages, bad queries; and `llm-proxy audit list` over it. */
describe.each(DIALECTS)('GET /manage/audit on %s', (_name, make) => {
  const clock = manualClock(Date.UTC(2026, 2, 1, 10));
  const t0 = clock.now();
  const stack = stackOn(make, { clock: clock.now });
  let st: ProxyStack;
  let projects: string[] = [];

  beforeAll(async () => {
    st = stack.st;
    if (!st) return;
    // Seven projects a minute apart, then a token update and a failed authentication.
    projects = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(MINUTE);
      projects.push(
        (await st.s.manage('POST', '/projects', { name: `page-${i}`, api_key: `sk-page-${i}-000000` })).body.id,
      );
    }
    clock.advance(MINUTE);
    await st.s.manage('PATCH', `/tokens/${st.tokenId}`, { name: 'renamed' });
    await fetch(`${st.url}/manage/projects`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
  });

  it('pages newest first with a cursor, every event exactly once', async () => {
    const all = await auditEvents(st.s);
    // main project + first token (startProxyStack), 7 projects, the update, the failed sign-in.
    expect(all).toHaveLength(11);
    const seen: AuditEventView[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await st.s.manage('GET', `/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen.map((e) => e.seq)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('filters by action (exact or prefix), target, actor and time range, combined', async () => {
    const seqs = async (q: Record<string, string>) => (await auditEvents(st.s, q)).map((e) => e.seq);
    expect(await seqs({ action: 'project.created' })).toEqual([1, 3, 4, 5, 6, 7, 8, 9]);
    expect(await seqs({ action: 'token.*' })).toEqual([2, 10]);
    expect(await seqs({ action: 'management.auth_failed' })).toEqual([11]);
    expect(await seqs({ target_type: 'token', target_id: st.tokenId })).toEqual([2, 10]);
    expect(await seqs({ target_id: projects[2] as string })).toEqual([5]);
    expect(await seqs({ actor: 'anonymous' })).toEqual([11]);
    expect(await seqs({ actor: 'management-token' })).toHaveLength(10);
    expect(await seqs({ actor: 'system:maintenance' })).toEqual([]);
    // Projects 2, 3 and 4 were created at t0 + 3, 4 and 5 minutes; `to` is exclusive.
    const iso = (m: number) => new Date(t0 + m * MINUTE).toISOString();
    expect(await seqs({ from: iso(3), to: iso(6) })).toEqual([5, 6, 7]);
    expect(await seqs({ from: String(t0 + 3 * MINUTE), to: String(t0 + 6 * MINUTE), action: 'project.*' })).toEqual([
      5, 6, 7,
    ]);
    expect(await seqs({ from: iso(8) })).toEqual([10, 11]);
  });

  it('refuses bad queries with a 400 naming the parameter', async () => {
    for (const [q, param] of [
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from(st.projectId).toString('base64url')}`, 'cursor'],
      ['action=DROP%20TABLE', 'action'],
      ['from=yesterday', 'from'],
      ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
      ['limit=0', 'limit'],
    ] as const) {
      const res = await st.s.manage('GET', `/audit?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.param, q).toBe(param);
    }
    expect((await fetch(`${st.url}/manage/audit`)).status).toBe(401);
  });

  it('lists through the CLI as a table or JSON, with the same filters', async () => {
    const env = { LLM_PROXY_URL: st.url, MANAGEMENT_TOKEN: st.s.managementToken };
    const json = await runCli(['audit', 'list', '--action', 'token.*', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).data.map((e: AuditEventView) => e.seq)).toEqual([10, 2]);
    const table = await runCli(['audit', 'list', '--target-id', st.tokenId, '--limit', '1'], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^seq\s+time\s+actor\s+action\s+target\s+client_ip\s+what$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^\\s*10\\s+\\S+Z\\s+management-token\\s+token\\.updated\\s+token:${st.tokenId}\\s+127\\.0\\.0\\.1\\s+name: null → "renamed"$`,
      ),
    );
    expect(lines.at(-1)).toMatch(/^more: --cursor \S+$/);
    const bad = await runCli(['audit', 'list', '--from', 'soon'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/400 invalid_request: .*from/);
  });
});

describe('audit trail privacy settings', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({
      env: { AUDIT_CLIENT_IP: 'false', AUDIT_LOG_FILE: 'off', MAINTENANCE_INTERVAL_MS: '0' },
    });
  });
  afterAll(async () => st?.stop());

  it('AUDIT_CLIENT_IP=false keeps addresses out of every event; AUDIT_LOG_FILE=off writes no file', async () => {
    await fetch(`${st.url}/manage/projects`);
    await st.proxy('/v1/models', { token: 'sk-llmp-not-a-real-token-000000000000000000' });
    await st.s.server.runtime.audit.flushRefusals(true);
    const events = await auditEvents(st.s);
    expect(events.map((e) => e.action)).toEqual([
      'project.created',
      'token.created',
      'management.auth_failed',
      'proxy.refused',
    ]);
    for (const e of events) expect(e.client_ip).toBeNull();
    expect(events[3]?.details).toEqual({ reason: 'unknown_token', count: 1, minute: expect.any(String) });
    expect(existsSync(path.join(st.s.dataDir, 'audit.log'))).toBe(false);
  });
});
