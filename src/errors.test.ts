import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, type ErrorCode, errors } from './errors.js';

describe('retry advice (AppError.headers)', () => {
  it('a 4xx without a time is final', () => {
    for (const e of [
      errors.invalidApiKey('the token is not known to this proxy'),
      errors.modelNotAllowed('gpt-4o'),
      errors.bodyTooLarge(10),
      errors.unsafePath(),
      errors.methodNotAllowed('TRACE', 'GET'),
      errors.requestLimitReached('token', 3, {}),
      errors.budgetExceeded('token', 1_000_000, 'total', {}, undefined),
    ]) {
      expect([e.code, e.headers()['x-should-retry'], e.headers()['retry-after']]).toEqual([e.code, 'false', undefined]);
    }
  });

  it('a wait within the SDK window is advised with its exact length', () => {
    const h = errors.requestRateExceeded('token', 5, { 'x-ratelimit-limit-requests': '5' }, 1234).headers();
    expect(h).toEqual({
      'x-ratelimit-limit-requests': '5',
      'retry-after': '2',
      'retry-after-ms': '1234',
      'x-should-retry': 'true',
    });
    expect(errors.storeUnavailable().headers()).toMatchObject({ 'retry-after': '1', 'x-should-retry': 'true' });
    expect(errors.managementRateLimited(42).headers()).toEqual({
      'retry-after': '42',
      'retry-after-ms': '42000',
      'x-should-retry': 'true',
    });
  });

  it('a longer wait keeps Retry-After but advises against the SDK retry', () => {
    const h = errors.budgetExceeded('token', 1_000_000, 'day', {}, 5 * 3600_000).headers();
    expect(h).toMatchObject({ 'retry-after': '18000', 'x-should-retry': 'false' });
  });

  it('a budget no retry can meet (lifetime, or the request dearer than all of it) advises none', () => {
    for (const e of [
      errors.budgetExceeded('project', 2_000_000, 'total', {}, 1000),
      errors.budgetExceeded('project', 2_000_000, 'month', {}, 1000, 2_000_001),
    ]) {
      expect(e.headers()).toEqual({ 'x-should-retry': 'false' });
    }
    expect(errors.budgetExceeded('project', 2_000_000, 'month', {}, 1000, 2_000_000).headers()).toMatchObject({
      'retry-after': '1',
    });
  });

  it('retryable without a time, and 5xx without advice', () => {
    expect(errors.requestBodyTimeout(10).headers()).toEqual({ 'x-should-retry': 'true' });
    expect(errors.upstreamUnavailable('ECONNREFUSED').headers()).toEqual({});
    expect(errors.internal().headers()).toEqual({});
    expect(errors.storeUnavailable('disk_full').headers()).toEqual({ 'retry-after': '10' });
  });
});

describe('the limiter refusals', () => {
  it('name the subject and the limit as the API documents them', () => {
    expect(errors.requestLimitReached('token', 1, {}).message).toBe('This token has used its 1 request.');
    expect(errors.requestLimitReached('project', 1000, {}).message).toBe(
      "This token's project has used all of its 1000 requests.",
    );
    expect(errors.requestRateExceeded('token', 1, {}, 10).message).toBe(
      'This token is limited to 1 request per minute.',
    );
    expect(errors.tokenRateExceeded('project', 500, {}, 10).message).toBe(
      "This token's project is limited to 500 tokens per minute.",
    );
    expect(errors.maxConcurrentReached('token', 2, {}).message).toBe('This token is limited to 2 concurrent requests.');
    expect(errors.budgetExceeded('token', 2_000_000_000, 'day', {}, 1).message).toBe(
      'This token has reached its budget of $2.00 for the day.',
    );
    expect(errors.budgetExceeded('project', 2_400_000, 'total', {}, undefined).message).toBe(
      "This token's project has reached its budget of $0.0024 for the lifetime.",
    );
    expect(errors.budgetExceeded('project', 60, 'total', {}, undefined).message).toBe(
      "This token's project has reached its budget of $0.00000006 for the lifetime.",
    );
  });
});

describe('the catalogue', () => {
  it('gives every error the status and type of its code', () => {
    const e = errors.modelNotPriced('x');
    expect([e.status, e.type, e.code]).toEqual([403, 'permission_error', 'model_not_priced']);
    expect(e).toBeInstanceOf(AppError);
    expect(e.toBody()).toEqual({
      error: { message: e.message, type: 'permission_error', code: 'model_not_priced', param: 'model' },
    });
    // Only a Fastify 4xx without a closer code keeps its own status.
    expect([errors.clientError(406, 'no').status, errors.clientError(406, 'no').code]).toEqual([
      406,
      'invalid_request',
    ]);
  });

  it('has a constructor for every code', () => {
    const source = readFileSync(new URL('./errors.ts', import.meta.url), 'utf8');
    const constructed = new Set([...source.matchAll(/(?:new AppError|super)\(\s*'([a-z_]+)'/g)].map((m) => m[1]));
    expect(Object.keys(ERROR_CODES).filter((c) => !constructed.has(c))).toEqual([]);
  });

  it('matches the table of error codes in docs/api.md, code for code', () => {
    const doc = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
    const section = /^### Error codes\n([\s\S]*?)(?=^#{2,3} )/m.exec(doc)?.[1];
    expect(section, 'docs/api.md has a "### Error codes" section').toBeDefined();
    const rows = (section ?? '')
      .split('\n')
      .filter((l) => /^\|\s*\d{3}\s*\|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim().replace(/^`|`$/g, '')));
    const documented = rows.map(([, status, type, code]) => ({ code, status: Number(status), type }));
    const catalogue = Object.entries(ERROR_CODES).map(([code, e]) => ({ code, status: e.status, type: e.type }));
    const byCode = (a: { code?: string }, b: { code?: string }) => String(a.code).localeCompare(String(b.code));
    expect(documented.sort(byCode)).toEqual(catalogue.sort(byCode));
    // Each row says when and what to do: no empty "When" or "Retry advice" cell.
    for (const r of rows)
      expect(
        r.slice(5, 7).every((c) => c.length > 0),
        r[3],
      ).toBe(true);
  });

  it('types codes: a code outside the list does not compile', () => {
    // @ts-expect-error 'busy' is not in ERROR_CODES
    const bad: ErrorCode = 'busy';
    expect(bad in ERROR_CODES).toBe(false);
  });
});
