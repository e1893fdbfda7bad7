import { describe, expect, it } from 'vitest';
import { AppError, errors } from './errors.js';

describe('retry advice (AppError.headers)', () => {
  it('a 4xx without a time is final', () => {
    for (const e of [
      errors.invalidApiKey('the token is not known to this proxy'),
      errors.modelNotAllowed('gpt-4o'),
      errors.bodyTooLarge(10),
      errors.unsafePath(),
      errors.methodNotAllowed('TRACE', 'GET'),
      errors.limitReached('request_limit_reached', 'spent', {}),
    ]) {
      expect([e.code, e.headers()['x-should-retry'], e.headers()['retry-after']]).toEqual([e.code, 'false', undefined]);
    }
  });

  it('a wait within the SDK window is advised with its exact length', () => {
    const h = errors.limitReached('rate_limit_exceeded', 'rpm', { 'x-ratelimit-limit-requests': '5' }, 1234).headers();
    expect(h).toEqual({
      'x-ratelimit-limit-requests': '5',
      'retry-after': '2',
      'retry-after-ms': '1234',
      'x-should-retry': 'true',
    });
    expect(errors.storeUnavailable().headers()).toMatchObject({ 'retry-after': '1', 'x-should-retry': 'true' });
  });

  it('a longer wait keeps Retry-After but advises against the SDK retry', () => {
    const h = errors.limitReached('budget_exceeded', 'day', {}, 5 * 3600_000).headers();
    expect(h).toMatchObject({ 'retry-after': '18000', 'x-should-retry': 'false' });
  });

  it('retryable without a time, and 5xx without advice', () => {
    expect(new AppError(429, 'rate_limit_error', 'busy', 'x', { retryable: true }).headers()).toEqual({
      'x-should-retry': 'true',
    });
    expect(errors.upstreamUnavailable('ECONNREFUSED').headers()).toEqual({});
    expect(errors.internal().headers()).toEqual({});
  });
});
