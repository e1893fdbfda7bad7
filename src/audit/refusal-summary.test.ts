import { describe, expect, it } from 'vitest';
import { RefusalSummary } from './refusal-summary.js';

const M = Date.UTC(2026, 0, 1, 0, 10);
const MINUTE = 60_000;

describe('RefusalSummary', () => {
  it('hands over only the minutes that ended, one summary per minute, token and reason', () => {
    const s = new RefusalSummary(true);
    for (let i = 0; i < 5; i++) s.note(M + i, undefined, undefined, 'unknown_token', '10.0.0.1', `r${i}`);
    s.note(M + 1, 't1', 'p1', 'rate_limit_exceeded', '10.0.0.2', 'x');
    s.note(M + MINUTE, undefined, undefined, 'unknown_token', '10.0.0.1', 'later');
    expect(s.take(M + MINUTE - 1).drafts).toEqual([]);
    const { drafts } = s.take(M + MINUTE + 5);
    expect(drafts.map((d) => [d.actor, d.details?.reason, d.details?.count, d.requestId])).toEqual([
      [{ type: 'anonymous', id: null }, 'unknown_token', 5, 'r0'],
      [{ type: 'token', id: 't1' }, 'rate_limit_exceeded', 1, 'x'],
    ]);
    expect(s.pending).toBe(1);
    expect(s.take(M + MINUTE + 5, true).drafts.map((d) => d.requestId)).toEqual(['later']);
    expect(s.pending).toBe(0);
  });

  it('lists at most ten addresses, the event holds one when there is only one, none when told not to keep them', () => {
    const s = new RefusalSummary(true);
    for (let i = 0; i < 12; i++) s.note(M, undefined, undefined, 'unknown_token', `10.0.0.${i}`, 'r');
    s.note(M, 't', 'p', 'token_revoked', '10.9.9.9', 'r');
    const [many, one] = s.take(M, true).drafts;
    expect(many?.details?.client_ips).toHaveLength(10);
    expect(many?.details?.more_client_ips).toBe(true);
    expect(many?.clientIp).toBeUndefined();
    expect(one?.clientIp).toBe('10.9.9.9');

    const quiet = new RefusalSummary(false);
    quiet.note(M, undefined, undefined, 'unknown_token', '10.0.0.1', 'r');
    const [d] = quiet.take(M, true).drafts;
    expect(d?.clientIp).toBeUndefined();
    expect(d?.details).toEqual({ reason: 'unknown_token', count: 1, minute: new Date(M).toISOString() });
  });

  it('puts back what could not be written, merged with what arrived since', () => {
    const s = new RefusalSummary(true);
    s.note(M, undefined, undefined, 'unknown_token', '10.0.0.1', 'first');
    s.note(M, undefined, undefined, 'unknown_token', '10.0.0.1', 'second');
    const failed = s.take(M, true);
    s.note(M + 10, undefined, undefined, 'unknown_token', '10.0.0.3', 'third');
    failed.restore();
    const [d] = s.take(M + MINUTE).drafts;
    expect(d?.details).toMatchObject({ count: 3, client_ips: ['10.0.0.3', '10.0.0.1'] });
    expect(d?.requestId).toBe('first');
  });
});
