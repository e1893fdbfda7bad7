import { describe, expect, it } from 'vitest';
import { checkRequestLine, unsafePath } from './request-line.js';

describe('request line checks', () => {
  it('refuses dot segments and backslashes however they are encoded', () => {
    for (const p of [
      '/v1/..',
      '/v1/../x',
      '/v1/./x',
      '/v1/x/.',
      '/v1/%2e%2E/x',
      '/v1/%2e/x',
      '/v1/%252e%252e/x',
      '/v1/%25%32%65%25%32%65/x',
      '/v1/%2525252e%2525252e/x',
      '/v1/x%2f..%2fy',
      '/v1/x\\y',
      '/v1/x%5cy',
      '/v1/x%255Cy',
      '/v1/..;a=b/x',
      '/v1/.;/x',
      '/v1/%u002e%u002e/x',
    ]) {
      expect([p, unsafePath(p)]).toEqual([p, true]);
    }
  });

  it('lets ordinary paths through', () => {
    for (const p of [
      '/v1/models/gpt-4.1',
      '/v1/a...b',
      '/v1/.well',
      '/v1/x.',
      '/v1/ft%3Agpt',
      '/v1/100%',
      '/v1/%zz',
      '/v1/a;b',
    ]) {
      expect([p, unsafePath(p)]).toEqual([p, false]);
    }
    expect(checkRequestLine('POST', '/v1/chat/completions')).toBeUndefined();
  });

  it('refuses encodings nested beyond reason rather than decoding forever', () => {
    expect(unsafePath(`/v1/%${'25'.repeat(2000)}2e`)).toBe(true);
    expect(unsafePath(`/v1/%${'25'.repeat(4)}41`)).toBe(true);
    // Many percent signs are not an encoding of anything: a plain segment.
    expect(unsafePath(`/v1/${'%25'.repeat(2000)}x`)).toBe(false);
  });

  it('refuses methods outside the forwarded set with a 405 naming the allowed ones', () => {
    const err = checkRequestLine('TRACE', '/v1/models');
    expect(err?.status).toBe(405);
    expect(err?.headers().allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
    for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect(checkRequestLine(m, '/v1/models')).toBeUndefined();
    }
  });
});
