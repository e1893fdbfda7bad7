import { describe, expect, it } from 'vitest';
import {
  compileEndpointRules,
  compileGlob,
  compileModelRules,
  endpointAllowed,
  endpointRuleProblem,
  type Glob,
  MAX_GLOB_LENGTH,
  matchSteps,
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
    // Each of these took the RegExp version seconds to hours. The measure is the matcher's own step
    // count (time on a shared machine is not one): at most L + n × ⌈L / 32⌉ for a glob of L
    // characters and an input of n.
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
    for (const [glob, input, want] of cases) {
      const before = matchSteps();
      expect([glob, compileGlob(glob).test(input)]).toEqual([glob, want]);
      const bound = glob.length + input.length * Math.max(1, Math.ceil(glob.length / 32));
      expect([glob, matchSteps() - before <= bound]).toEqual([glob, true]);
    }
  });

  it('a `?` piece of any length is found in one pass: 7 steps a character for 200 characters', () => {
    const glob = `*${'?'.repeat(MAX_GLOB_LENGTH - 3)}x*`;
    const input = 'a'.repeat(2048);
    const before = matchSteps();
    expect(compileGlob(glob).test(input)).toBe(false);
    // Comparing at each start instead (as before) was 2,048 × 198 steps.
    expect(matchSteps() - before).toBe(2048 * 7);
    expect(compileGlob(glob).test(`${'a'.repeat(500)}${'b'.repeat(197)}x${'a'.repeat(500)}`)).toBe(true);
  });

  it('agrees with the RegExp form on long `?` pieces spanning several words, within the step bound', () => {
    const next = rng(17);
    const pick = (alphabet: string, max: number) =>
      Array.from({ length: Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    const mismatches: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // One or two pieces of 20-120 characters, mostly `?` with a few letters, between stars.
      const piece = () => pick('??????ab', 120).padEnd(20, '?');
      const glob = `${pick('ab', 3)}*${piece()}${next() < 0.5 ? `*${piece()}` : ''}*${pick('ab', 3)}`;
      const input = pick(next() < 0.5 ? 'ab' : 'aab', 300);
      const before = matchSteps();
      const got = compileGlob(glob).test(input);
      const steps = matchSteps() - before;
      if (got !== reference(glob).test(input)) mismatches.push(`${glob} ~ ${input}`);
      if (steps > glob.length + input.length * Math.ceil(glob.length / 32)) mismatches.push(`steps ${glob} ~ ${input}`);
    }
    expect(mismatches).toEqual([]);
  });
});
