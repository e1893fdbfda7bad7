import { describe, expect, it } from 'vitest';
import * as v from './validate';

describe('client-side validation (the API’s rules)', () => {
  it('refuses upstream keys the API refuses, with its reasons', () => {
    expect(v.apiKey('', true)).toBe('The upstream API key is required.');
    expect(v.apiKey('', false)).toBeUndefined();
    expect(v.apiKey(' sk-x', true)).toMatch(/starts or ends with whitespace/);
    expect(v.apiKey('sk-…', true)).toMatch(/outside Latin-1/);
    expect(v.apiKey('sk-proj-abc', true)).toBeUndefined();
  });

  it('checks URLs, names, numbers, budgets, prices and allowlists', () => {
    expect(v.baseUrl('https://user:pw@api.example.com')).toMatch(/credentials/);
    expect(v.baseUrl('ftp://x')).toMatch(/http/);
    expect(v.baseUrl('')).toBeUndefined();
    expect(v.projectName('  ')).toBe('A name is required.');
    expect(v.projectName('x'.repeat(201))).toBe('At most 200 characters.');
    expect(v.positiveInt('0')).toBe('At least 1.');
    expect(v.keyWeight('')).toBe('A weight is required.');
    expect(v.keyWeight('1001')).toBe('At most 1,000.');
    expect(v.keyWeight('1000')).toBeUndefined();
    expect(v.positiveInt('1.5')).toMatch(/whole number/);
    expect(v.durationMinutes(String(60 * 24 * 3650 + 1))).toMatch(/At most/);
    expect(v.batchCount('1001')).toMatch(/At most 1,000/);
    expect(v.budget('0.1234567891')).toMatch(/nine decimals/);
    expect(v.budget('25')).toBeUndefined();
    expect(v.price('-1', true)).toMatch(/number/);
    expect(v.modelName('gpt 4')).toMatch(/Letters/);
    expect(v.globList('POST /v1/chat/*, /v1/embeddings', true)).toBeUndefined();
    expect(v.globList('v1/chat', true)).toMatch(/not "METHOD \/path"/);
    expect(v.listItems(' a, b\nc ,')).toEqual(['a', 'b', 'c']);
  });
});
