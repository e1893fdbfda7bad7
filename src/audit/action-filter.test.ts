import { describe, expect, it } from 'vitest';
import { storedActions } from './action-filter.js';
import { AUDIT_ACTIONS, RENAMED_ACTIONS } from './audit-event.js';

describe('audit action names and the action filter', () => {
  it('follow one scheme: <subject>.<what happened>, the subject never the plural of another', () => {
    const subjects = new Set(AUDIT_ACTIONS.map((a) => a.split('.')[0] as string));
    for (const a of AUDIT_ACTIONS) expect(a).toMatch(/^[a-z]+\.[a-z_]+$/);
    for (const s of subjects) expect(subjects.has(`${s}s`), `${s} and ${s}s`).toBe(false);
    for (const [old, now] of Object.entries(RENAMED_ACTIONS)) {
      expect(AUDIT_ACTIONS).not.toContain(old);
      expect(AUDIT_ACTIONS).toContain(now);
    }
  });

  it('token.* selects every token action, under its new and its old name', () => {
    expect(storedActions('token.*').sort()).toEqual(
      [
        'token.created',
        'token.updated',
        'token.revoked',
        'token.batch_created',
        'tokens.batch_created',
        'token.batch_revoked',
        'tokens.batch_revoked',
        'token.deleted',
        'tokens.deleted',
      ].sort(),
    );
  });

  it('an exact name, new or old, selects that action under both names', () => {
    expect(storedActions('token.created')).toEqual(['token.created']);
    expect(storedActions('token.deleted')).toEqual(['token.deleted', 'tokens.deleted']);
    expect(storedActions('tokens.deleted')).toEqual(['token.deleted', 'tokens.deleted']);
  });

  it('* matches anywhere, dots included; nothing else is a wildcard', () => {
    expect(storedActions('*.deleted').sort()).toEqual(
      ['project.deleted', 'token.deleted', 'tokens.deleted', 'user.deleted'].sort(),
    );
    expect(storedActions('*').length).toBe(AUDIT_ACTIONS.length + Object.keys(RENAMED_ACTIONS).length);
    expect(storedActions('session.sign*')).toEqual([
      'session.signed_in',
      'session.sign_in_failed',
      'session.signed_out',
    ]);
    expect(() => storedActions('token.created.')).toThrow(/No audit action matches "token.created."/);
    expect(() => storedActions('token_created')).toThrow();
  });

  it('a pattern that matches nothing is refused with the list of actions, on the action parameter', () => {
    let err: unknown;
    try {
      storedActions('tokn.*');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ status: 400, extra: { param: 'action' } });
    expect((err as Error).message).toContain('Actions: project.created, project.updated,');
  });
});
