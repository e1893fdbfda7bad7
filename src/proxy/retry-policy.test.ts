import { describe, expect, it } from 'vitest';
import { errors } from '../errors.js';
import { errorReason, noMoreRetries, notRun, statusReason } from './retry-policy.js';

describe('what is retried', () => {
  it('a 429 (not run) and a 5xx (may have run); never another status', () => {
    expect(statusReason(429)).toBe('rate_limited');
    expect(statusReason(500)).toBe('server_error');
    expect(statusReason(503)).toBe('server_error');
    for (const s of [200, 400, 401, 404, 408, 409, 422]) expect(statusReason(s)).toBeUndefined();
    expect(notRun('rate_limited')).toBe(true);
    expect(notRun('server_error')).toBe(false);
  });

  it('a connection never made (not run), a timeout or a lost connection (may have run); not our own refusals', () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(errorReason(coded('ECONNREFUSED'))).toBe('connect');
    expect(errorReason(coded('UND_ERR_CONNECT_TIMEOUT'))).toBe('connect');
    expect(errorReason(Object.assign(new Error('x'), { cause: { code: 'ENOTFOUND' } }))).toBe('connect');
    expect(errorReason(coded('ECONNRESET'))).toBe('reset');
    expect(errorReason(coded('UND_ERR_SOCKET'))).toBe('reset');
    expect(errorReason(errors.upstreamTimeout('waiting for response headers'))).toBe('timeout');
    expect(errorReason(errors.bodyTooLarge(10))).toBeUndefined();
    expect(notRun('connect')).toBe(true);
    expect(notRun('timeout')).toBe(false);
    expect(notRun('reset')).toBe(false);
  });
});

describe('noMoreRetries', () => {
  it('says x-should-retry: false, in place of the upstream’s own', () => {
    const list = ['content-type', 'application/json', 'X-Should-Retry', 'true'];
    noMoreRetries(list);
    expect(list).toEqual(['content-type', 'application/json', 'x-should-retry', 'false']);
  });

  it('leaves a response that says when to come back to the SDK’s own rules', () => {
    for (const name of ['retry-after', 'Retry-After-Ms']) {
      const list = ['content-type', 'application/json', name, '1'];
      noMoreRetries(list);
      expect(list).toEqual(['content-type', 'application/json', name, '1']);
    }
  });
});
