import { describe, expect, it } from 'vitest';
import { buildKind, joinPath, mixSchedule, RequestSpecError, withStream } from './request-kind.js';

describe('request kinds', () => {
  it('builds an endpoint alias with its default body, token and headers', () => {
    const k = buildKind({ endpoint: 'chat' }, { basePath: '/', token: 'sk-t', headers: { 'X-Extra': '1' } });
    expect(k).toMatchObject({ name: 'chat', method: 'POST', path: '/v1/chat/completions', stream: false, weight: 1 });
    expect(k.headers).toEqual(['authorization', 'Bearer sk-t', 'content-type', 'application/json', 'x-extra', '1']);
    const body = JSON.parse(k.body?.render(0) ?? '');
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.messages[0].content.split(' ')).toHaveLength(12);
  });

  it('sets stream in the body', () => {
    const k = buildKind({ endpoint: 'completions', stream: true, model: 'x' }, { basePath: '/' });
    expect(k.name).toBe('completions+stream');
    expect(JSON.parse(k.body?.render(0) ?? '')).toMatchObject({ stream: true, model: 'x' });
    expect(withStream('{"a":1}')).toBe('{"stream":true,"a":1}');
    expect(withStream('{ }')).toBe('{"stream":true }');
    expect(withStream('{"stream": false, "a": 1}')).toBe('{"stream": true, "a": 1}');
    expect(withStream('{"stream":{{stream}}}')).toBe('{"stream":true}');
    expect(() => buildKind({ endpoint: 'embeddings', stream: true }, { basePath: '/' })).toThrow(/does not stream/);
  });

  it('takes any path, GET without a body and POST with one', () => {
    expect(buildKind({ endpoint: 'models' }, { basePath: '/' })).toMatchObject({ method: 'GET', body: null });
    expect(buildKind({ endpoint: '/v1/files' }, { basePath: '/' })).toMatchObject({ method: 'GET', path: '/v1/files' });
    const post = buildKind({ endpoint: '/v1/moderations', body: '{"input":"{{random_word}}"}' }, { basePath: '/' });
    expect(post.method).toBe('POST');
    expect(buildKind({ endpoint: '/x', method: 'delete' }, { basePath: '/' }).method).toBe('DELETE');
  });

  it('joins base paths without doubling /v1', () => {
    expect(joinPath('/', '/v1/models', true)).toBe('/v1/models');
    expect(joinPath('/v1', '/v1/models', true)).toBe('/v1/models');
    expect(joinPath('/openai/v1/', '/v1/models', true)).toBe('/openai/v1/models');
    expect(joinPath('/base', '/custom', false)).toBe('/base/custom');
    expect(buildKind({ endpoint: 'chat' }, { basePath: '/v1' }).path).toBe('/v1/chat/completions');
  });

  it('refuses what cannot work', () => {
    expect(() => buildKind({ endpoint: 'nope' }, { basePath: '/' })).toThrow(RequestSpecError);
    expect(() => buildKind({ endpoint: 'chat', body: '{"a":{{random_word}}}' }, { basePath: '/' })).toThrow(
      /valid JSON/,
    );
    expect(() => buildKind({ endpoint: 'chat', weight: 0 }, { basePath: '/' })).toThrow(/weight/);
  });

  it('mixes kinds by weight in a fixed, shuffled order', () => {
    const s = mixSchedule([60, 20, 15, 5]);
    const counts = [0, 0, 0, 0];
    for (const i of s) counts[i] = (counts[i] ?? 0) + 1;
    expect(counts).toEqual([600, 200, 150, 50]);
    expect(mixSchedule([60, 20, 15, 5])).toEqual(s);
    expect([...s.slice(0, 20)].every((i) => i === 0)).toBe(false);
    expect([...mixSchedule([1])].every((i) => i === 0)).toBe(true);
  });
});
