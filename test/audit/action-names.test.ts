import { describe, expect, it } from 'vitest';
import type { AuditAction } from '../../src/audit/audit-event.js';
import { MANAGEMENT_TOKEN } from '../../src/audit/audit-event.js';
import { AuditChain } from '../../src/audit/chain.js';
import { verifyChain } from '../../src/audit/verify.js';
import { AuditRepo } from '../../src/store/audit-repo.js';
import { runCli } from '../helpers/cli.js';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS } from '../helpers/databases.js';
import { auditEvents, stackOn } from './helpers.js';

const DAY = 86_400_000;

/**
 * One naming scheme for audit actions, and filters that find what the docs say they find:
 * `--action 'token.*'` (the README's example) matches every token event, batches and retention
 * deletions included, also events stored under the names they had before.
 */
describe.each(DIALECTS)('audit action names and the action filter on %s', (_name, make) => {
  const clock = manualClock(Date.UTC(2026, 5, 1, 10));
  const stack = stackOn(make, { clock: clock.now, env: { TOKEN_RETENTION_DAYS: '1' } });

  it("token.* finds single, batch and retention events; an old name's rows are found by both names", async () => {
    const { st } = stack;
    const { runtime } = st.s.server;
    // An event as an earlier build sealed it into the chain, under the plural name it had then.
    await runtime.audit.append({ actor: MANAGEMENT_TOKEN }, [
      {
        action: 'tokens.batch_revoked' as AuditAction,
        target: { type: 'token', id: null },
        details: { revoked: 0, token_ids: [] },
      },
    ]);
    const batch = await st.s.manage('POST', '/tokens/batch', { project_id: st.projectId, count: 2, name_prefix: 'n' });
    expect(batch.status).toBe(201);
    expect((await st.s.manage('POST', '/tokens/revoke', { name_prefix: 'n-' })).body).toEqual({ revoked: 2 });
    clock.advance(2 * DAY);
    expect((await runtime.maintenance.runOnce()).tokens_deleted).toBe(2);

    const actions = async (action: string) => (await auditEvents(st.s, { action })).map((e) => e.action);
    expect(await actions('token.*')).toEqual([
      'token.created',
      'tokens.batch_revoked',
      'token.batch_created',
      'token.batch_revoked',
      'token.deleted',
    ]);
    expect(await actions('token.batch_revoked')).toEqual(['tokens.batch_revoked', 'token.batch_revoked']);
    expect(await actions('tokens.batch_revoked')).toEqual(['tokens.batch_revoked', 'token.batch_revoked']);
    expect(await actions('*.deleted')).toEqual(['token.deleted']);
    expect(await actions('*batch*')).toEqual(['tokens.batch_revoked', 'token.batch_created', 'token.batch_revoked']);

    const none = await st.s.manage('GET', '/audit?action=tokn.*');
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({ param: 'action', code: 'invalid_request' });
    expect(none.body.error.message).toMatch(/^No audit action matches "tokn\.\*"\. Actions: project\.created, /);

    // Nothing stored was renamed: the chain, old name included, verifies.
    const result = await verifyChain(new AuditRepo(runtime.db), AuditChain.fromKeyring(runtime.secrets.keyring));
    expect(result).toMatchObject({ ok: true, events: 6 });
  });

  it('llm-proxy audit list --action token.* lists them too', async () => {
    const { st } = stack;
    const env = { LLM_PROXY_URL: st.url, MANAGEMENT_TOKEN: st.s.managementToken };
    const res = await runCli(['audit', 'list', '--action', 'token.*', '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).data.map((e: { action: string }) => e.action)).toEqual([
      'token.deleted',
      'token.batch_revoked',
      'token.batch_created',
      'tokens.batch_revoked',
      'token.created',
    ]);
  });
});
