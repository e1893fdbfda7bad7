import { describe, expect, it } from 'vitest';
import { OptionsError, parseHeader, resolveSpec } from './options.js';
import { PROFILES, ProfileError, resolveProfile } from './profiles.js';
import { buildKind } from './request-kind.js';
import { parseDuration } from './units.js';

const noFiles = (f: string): string => {
  throw new Error(`ENOENT: ${f}`);
};

describe('profiles', () => {
  it('resolves every built-in profile to buildable requests', () => {
    for (const name of ['short-chat', 'long-stream', 'embeddings-batch', 'mixed']) {
      const p = resolveProfile(name);
      expect(p.name).toBe(name);
      for (const r of p.requests) expect(() => buildKind(r, { basePath: '/' })).not.toThrow();
    }
    expect(PROFILES.mixed?.requests.map((r) => r.weight)).toEqual([60, 20, 15, 5]);
    const batch = buildKind(PROFILES['embeddings-batch']?.requests[0] ?? { endpoint: 'x' }, { basePath: '/' });
    expect(JSON.parse(batch.body?.render(0) ?? '').input).toHaveLength(32);
  });

  it('loads a profile file and rejects unknown names', () => {
    const file = JSON.stringify({
      name: 'mine',
      concurrency: 3,
      duration: '2s',
      requests: [{ endpoint: 'embeddings', body: { model: '{{model}}', input: '{{random_word}}' }, weight: 2 }],
    });
    const p = resolveProfile('./mine.json', () => file);
    expect(p).toMatchObject({ name: 'mine', concurrency: 3, duration: '2s' });
    expect(p.requests[0]?.body).toBe('{"model":"{{model}}","input":"{{random_word}}"}');
    expect(() => resolveProfile('short_chat')).toThrow(ProfileError);
    expect(() => resolveProfile('./missing.json', noFiles)).toThrow(/cannot read profile/);
    expect(() => resolveProfile('./bad.json', () => '{"requests":[]}')).toThrow(/non-empty/);
  });
});

describe('resolveSpec', () => {
  it('applies defaults for a plain run', () => {
    const spec = resolveSpec({}, { defaultUrl: 'http://proxy:1' });
    expect(spec.targets).toEqual([{ label: 'run', url: 'http://proxy:1', token: undefined }]);
    expect(spec.requests).toEqual([{ endpoint: 'chat' }]);
    expect(spec.plan).toMatchObject({ concurrency: 10, durationMs: 10_000, requests: undefined, rate: undefined });
    expect(spec.warmupMs).toBe(0);
    expect(spec.timeoutMs).toBe(30_000);
  });

  it('lets flags win over the profile, and the profile over defaults', () => {
    const fromProfile = resolveSpec({ profile: 'long-stream' });
    expect(fromProfile.plan).toMatchObject({ concurrency: 32, durationMs: 20_000 });
    expect(fromProfile.profile).toBe('long-stream');
    const overridden = resolveSpec({ profile: 'long-stream', concurrency: 4, requests: 50, model: 'm2' });
    expect(overridden.plan).toMatchObject({ concurrency: 4, requests: 50, durationMs: undefined });
    expect(overridden.requests[0]?.model).toBe('m2');
    expect(() => resolveSpec({ profile: 'mixed', endpoint: 'chat' })).toThrow(/drop --endpoint/);
  });

  it('builds a comparison: direct, proxy, then references', () => {
    const spec = resolveSpec({
      direct: 'http://up',
      proxy: 'http://px',
      token: 'proxy-token',
      directToken: 'up-key',
      against: ['nginx=http://ng', 'old=http://old:1,token=old-token'],
      rate: 100,
    });
    expect(spec.targets).toEqual([
      { label: 'direct', url: 'http://up', token: 'up-key' },
      { label: 'proxy', url: 'http://px', token: 'proxy-token' },
      { label: 'nginx', url: 'http://ng', token: 'up-key' },
      { label: 'old', url: 'http://old:1', token: 'old-token' },
    ]);
    expect(spec.warmupMs).toBe(1000);
    expect(spec.rounds).toBe(5);
    expect(spec.plan.rate).toBe(100);
  });

  it('reads the body template file and refuses contradictions', () => {
    const spec = resolveSpec({ bodyFile: 't.json', stream: true }, { read: () => '{"model":"{{model}}"}' });
    expect(spec.requests[0]).toEqual({ endpoint: 'chat', body: '{"model":"{{model}}"}', stream: true });
    expect(() => resolveSpec({ bodyFile: 'x' }, { read: noFiles })).toThrow(/cannot read --body-file/);
    expect(() => resolveSpec({ body: '{}', bodyFile: 'x' })).toThrow(OptionsError);
    expect(() => resolveSpec({ requests: 5, duration: '1s' })).toThrow(/not both/);
    expect(() => resolveSpec({ direct: 'http://a' })).toThrow(/both --direct/);
    expect(() => resolveSpec({ direct: 'http://a', proxy: 'http://b', url: 'http://c' })).toThrow(/not both/);
    expect(() => resolveSpec({ duration: 'soon' })).toThrow(/-d: not a duration/);
  });

  it('parses headers and durations', () => {
    expect(parseHeader('X-Mock-Chunks: 16')).toEqual(['x-mock-chunks', '16']);
    expect(parseHeader('a: b: c')).toEqual(['a', 'b: c']);
    expect(() => parseHeader('nocolon')).toThrow(OptionsError);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('3')).toBe(3000);
  });
});
