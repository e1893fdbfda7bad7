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

  it('refuses controls, invalid UTF-8, %U escapes and look-alikes of . / \\, raw or encoded', () => {
    const unsafe = [
      '/v1/%U002E%U002E/x',
      '/v1/%u002F',
      '/v1/%25U002e%25U002e/x',
      '/v1/..%00/x',
      '/v1/..\u0000/x',
      '/v1/..%09/x',
      '/v1/a\tb',
      '/v1/a%7fb',
      '/v1/a%c2%85b',
      '/v1/a\u0085b',
      '/v1/%c0%ae%c0%ae/x',
      '/v1/\u00c0\u00ae\u00c0\u00ae/x',
      '/v1/%e0%80%ae%e0%80%ae/x',
      '/v1/%ed%a0%80',
      '/v1/%ff',
      '/v1/\uff0e\uff0e/x',
      '/v1/%ef%bc%8e%ef%bc%8e/x',
      '/v1/%e2%80%a4/x',
      '/v1/a%ef%bc%8fb',
      '/v1/a%ef%bc%bcb',
      '/v1/a%cd%beb',
      '/v1/.../x',
      '/v1/..%20/x',
      '/v1/%20../x',
      '/v1/. ;p/x',
    ];
    for (const p of unsafe) expect([p, unsafePath(p)]).toEqual([p, true]);
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
      '/v1/files/file-abc123/content',
      '/v1/fine_tuning/jobs/ftjob-abc_DEF-123/events',
      '/v1/models/caf%C3%A9-%E6%A8%A1%E5%9E%8B',
      '/v1/a%20b',
      '/v1/...x/x...',
      '/v1/%u12',
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

  it('refuses a path over 2,048 characters, with a message of its own', () => {
    expect(checkRequestLine('GET', `/v1/${'a'.repeat(2044)}`)).toBeUndefined();
    const err = checkRequestLine('GET', `/v1/${'a'.repeat(2045)}`);
    expect([err?.status, err?.code, err?.message]).toEqual([
      400,
      'invalid_path',
      'The request path is longer than 2048 characters.',
    ]);
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
