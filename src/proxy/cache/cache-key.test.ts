import { describe, expect, it } from 'vitest';
import { RequestBody } from '../request-body.js';
import { cacheKey, canonicalJson, type KeyParts } from './cache-key.js';
import { cachePlan, requestDirectives } from './cache-policy.js';

const parts = (
  over: Partial<KeyParts> = {},
  body = '{"model":"m","messages":[{"role":"user","content":"hi"}]}',
): KeyParts => ({
  projectId: 'p1',
  upstream: 'https://api.openai.com',
  method: 'POST',
  url: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', 'user-agent': 'a' },
  body: new RequestBody(Buffer.from(body), 'application/json'),
  ...over,
});

describe('cache key', () => {
  it('is the same for the same request, whatever the key order, formatting or unkeyed headers', () => {
    const a = cacheKey(parts());
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(parts({}, '{ "messages" : [ {"content":"hi","role":"user"} ], "model":"m" }'))).toBe(a);
    expect(
      cacheKey(
        parts({ headers: { 'content-type': 'application/json', 'user-agent': 'b', 'x-stainless-os': 'Linux' } }),
      ),
    ).toBe(a);
  });

  it('differs by project, upstream, method, path and query, keyed headers and body', () => {
    const a = cacheKey(parts());
    const others = [
      parts({ projectId: 'p2' }),
      parts({ upstream: 'https://example.openai.azure.com/openai/v1' }),
      parts({ url: '/v1/chat/completions?api-version=1' }),
      parts({ url: '/v1/completions' }),
      parts({ method: 'PUT' }),
      parts({ headers: { 'content-type': 'application/json', 'openai-organization': 'org-1' } }),
      parts({ headers: { 'content-type': 'application/json', 'openai-project': 'proj_1' } }),
      parts({ headers: { 'content-type': 'application/json', 'openai-beta': 'assistants=v2' } }),
      parts({ headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }),
      parts({}, '{"model":"m","messages":[{"role":"user","content":"hi!"}]}'),
      parts({}, '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}'),
    ];
    const keys = new Set([a, ...others.map(cacheKey)]);
    expect(keys.size).toBe(others.length + 1);
  });

  it('keys a body with long numbers by its bytes, so seeds a double would merge stay apart', () => {
    const s1 = parts({}, '{"model":"m","seed":9007199254740993}');
    const s2 = parts({}, '{"model":"m","seed":9007199254740992}');
    expect(cacheKey(s1)).not.toBe(cacheKey(s2));
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }], e: 'x' })).toBe('{"a":[{"c":null,"d":2}],"b":1,"e":"x"}');
  });
});

describe('cache plan', () => {
  const d = requestDirectives;
  it('reads the directives it honours', () => {
    expect(d(undefined)).toEqual({ noCache: false, noStore: false, maxAge: undefined });
    expect(d('No-Cache, max-age=30')).toEqual({ noCache: true, noStore: false, maxAge: 30 });
    expect(d('no-store, max-age="5"')).toEqual({ noCache: false, noStore: true, maxAge: 5 });
    expect(d('max-age=abc').maxAge).toBeUndefined();
  });

  it('takes the TTL from max-age, else the project, capped; bypasses what cannot be cached', () => {
    expect(cachePlan('POST', '/v1/chat/completions', d(undefined), null, 3600)).toBeUndefined();
    expect(cachePlan('POST', '/v1/chat/completions', d(undefined), 60, 3600)).toEqual({
      lookup: true,
      store: true,
      ttlMs: 60_000,
    });
    expect(cachePlan('POST', '/v1/embeddings', d('max-age=7200'), 60, 3600)).toEqual({
      lookup: true,
      store: true,
      ttlMs: 3_600_000,
    });
    expect(cachePlan('POST', '/v1/chat/completions', d('no-cache'), 60, 3600)).toMatchObject({
      lookup: false,
      store: true,
    });
    expect(cachePlan('POST', '/v1/chat/completions', d('no-store'), 60, 3600)).toMatchObject({
      lookup: true,
      store: false,
    });
    expect(cachePlan('POST', '/v1/chat/completions', d('max-age=0'), 60, 3600)).toMatchObject({
      lookup: false,
      store: false,
    });
    expect(cachePlan('GET', '/v1/models', d(undefined), 60, 3600)).toBe('bypass');
    expect(cachePlan('POST', '/v1/files', d(undefined), 60, 3600)).toBe('bypass');
    expect(cachePlan('POST', '/v1/audio/transcriptions', d('max-age=60'), null, 3600)).toBe('bypass');
  });
});
