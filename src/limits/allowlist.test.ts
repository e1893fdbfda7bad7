import { describe, expect, it } from 'vitest';
import {
  compileEndpointRules,
  compileModelRules,
  endpointAllowed,
  endpointRuleProblem,
  modelAllowed,
} from './allowlist.js';

describe('allowlists', () => {
  it('matches model globs', () => {
    const rules = compileModelRules(['gpt-4o*', 'text-embedding-3-?mall']) as RegExp[];
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
});
