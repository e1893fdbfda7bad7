import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { fingerprint, parseIdempotencyKey } from './idempotency-key.js';

describe('parseIdempotencyKey', () => {
  it('takes a bare key, and the draft quoted string as the same key', () => {
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(parseIdempotencyKey('"8e03978e-40d5"')).toBe('8e03978e-40d5');
    expect(parseIdempotencyKey('"a \\"quoted\\" \\\\ key"')).toBe('a "quoted" \\ key');
    expect(parseIdempotencyKey('k'.repeat(255))).toBe('k'.repeat(255));
  });

  it('refuses an empty, too long or unprintable key with 400 idempotency_key_invalid', () => {
    for (const bad of ['', '""', '   ', 'k'.repeat(256), 'tab\there', 'naïve', 'nul\0']) {
      const err = parseIdempotencyKey(bad);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('idempotency_key_invalid');
      expect((err as AppError).status).toBe(400);
    }
  });
});

describe('fingerprint', () => {
  it('differs by method, path with query and body, and only by them', () => {
    const body = Buffer.from('{"a":1}');
    const base = fingerprint('POST', '/v1/chat/completions', body);
    expect(fingerprint('POST', '/v1/chat/completions', Buffer.from('{"a":1}'))).toBe(base);
    expect(fingerprint('PATCH', '/v1/chat/completions', body)).not.toBe(base);
    expect(fingerprint('POST', '/v1/chat/completions?x=1', body)).not.toBe(base);
    expect(fingerprint('POST', '/v1/chat/completions', Buffer.from('{"a": 1}'))).not.toBe(base);
    // The separator keeps path and body apart: moving bytes between them changes the print.
    expect(fingerprint('POST', '/v1/a', Buffer.from('b'))).not.toBe(fingerprint('POST', '/v1/ab', undefined));
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
