import { describe, expect, it } from 'vitest';
import {
  compileEndpointRules,
  compileGlob,
  compileModelRules,
  endpointAllowed,
  endpointRuleProblem,
  type Glob,
  modelAllowed,
} from './allowlist.js';

/** The glob semantics as a RegExp (backtracking: fine for short inputs, the reference here). */
const reference = (glob: string) =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^]*')
      .replace(/\?/g, '[^]')}$`,
  );

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('allowlists', () => {
  it('matches model globs', () => {
    const rules = compileModelRules(['gpt-4o*', 'text-embedding-3-?mall']) as Glob[];
    expect(modelAllowed(rules, 'gpt-4o')).toBe(true);
    expect(modelAllowed(rules, 'gpt-4o-mini-2024-07-18')).toBe(true);
    expect(modelAllowed(rules, 'text-embedding-3-small')).toBe(true);
    expect(modelAllowed(rules, 'gpt-4.1')).toBe(false);
    expect(modelAllowed(rules, 'my-gpt-4o')).toBe(false);
    expect(compileModelRules(null)).toBeNull();
  });

  it('matches endpoint rules with and without a method', () => {
    const rules = compileEndpointRules(['POST /v1/chat/completions', 'GET /v1/models*', '/v1/embeddings']) as never;
    expect(endpointAllowed(rules, 'POST', '/v1/chat/completions')).toBe(true);
    expect(endpointAllowed(rules, 'GET', '/v1/chat/completions')).toBe(false);
    expect(endpointAllowed(rules, 'GET', '/v1/models/gpt-4o')).toBe(true);
    expect(endpointAllowed(rules, 'DELETE', '/v1/embeddings')).toBe(true);
    expect(endpointAllowed(rules, 'POST', '/v1/files')).toBe(false);
    expect(endpointAllowed(compileEndpointRules(['post /v1/*']) as never, 'POST', '/v1/a/b')).toBe(true);
  });

  it('explains malformed endpoint rules', () => {
    expect(endpointRuleProblem('POST /v1/x')).toBeUndefined();
    expect(endpointRuleProblem('/v1/x')).toBeUndefined();
    expect(endpointRuleProblem('v1/x')).toMatch(/not "METHOD \/path"/);
    expect(endpointRuleProblem('P0ST /v1/x')).toMatch(/not an HTTP method/);
  });

  it('agrees with the RegExp form on random globs and inputs', () => {
    const next = rng(9);
    const pick = (alphabet: string, max: number) =>
      Array.from({ length: Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    const mismatches: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Long runs of '?' now and then, to take the compare-at-each-start path (segments over 31).
      const glob =
        next() < 0.05
          ? `${pick('ab*', 4)}${'?'.repeat(32 + Math.floor(next() * 4))}${pick('ab*', 4)}`
          : pick('ab-?*', 9);
      // Short inputs over few letters: matches are decided by single characters, where bugs show.
      const input = pick(next() < 0.5 ? 'ab' : 'ab-', 14);
      if (compileGlob(glob).test(input) !== reference(glob).test(input)) mismatches.push(`${glob} ~ ${input}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('matches any character, newlines and slashes included, and nothing else specially', () => {
    expect(compileGlob('a*b').test('a\n/b')).toBe(true);
    expect(compileGlob('a?b').test('a\nb')).toBe(true);
    expect(compileGlob('a.b').test('axb')).toBe(false);
    expect(compileGlob('(a)+[b]').test('(a)+[b]')).toBe(true);
    expect(compileGlob('*').test('')).toBe(true);
    expect(compileGlob('').test('')).toBe(true);
    expect(compileGlob('a**b').test('ab')).toBe(true);
    expect(compileGlob('ab*ba').test('aba')).toBe(false);
  });

  it('hostile globs and 100 000-character inputs: no backtracking, answers in one pass', () => {
    // Each of these took the RegExp version seconds to hours; here all of them together take
    // milliseconds. The bound is 1 s of CPU time (which a busy machine does not inflate, unlike the
    // time on the clock), two orders of magnitude above and far below the old cost.
    const long = '-'.repeat(100_000);
    const cases: Array<[string, string, boolean]> = [
      ['gpt-*-*-preview', `gpt-${long}x`, false],
      ['gpt-*-*-preview', `gpt-${long}-preview`, true],
      ['*-*-*-*-x', long, false],
      ['*?-?-?*x', long, false],
      [`*${'-?'.repeat(15)}x*`, long, false],
      [`*${'?-'.repeat(40)}x*`, long, false],
      ['/v1/*-*-*-x', `/v1/${long}`, false],
      ['*a*a*a*a*a*b', 'a'.repeat(100_000), false],
    ];
    const t0 = process.cpuUsage();
    for (const [glob, input, want] of cases) expect([glob, compileGlob(glob).test(input)]).toEqual([glob, want]);
    const cpu = process.cpuUsage(t0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(1000);
  });
});
