import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateError } from './template.js';

const ctx = { model: 'gpt-4o-mini', stream: false };

describe('body templates', () => {
  it('expands every variable', () => {
    const t = compileTemplate(
      '{"seq":{{seq}},"id":"{{uuid}}","n":{{random_int:5:7}},"w":"{{random_word}}","p":"{{random_prompt:4}}",' +
        '"ts":{{timestamp}},"iso":"{{iso_time}}","model":"{{model}}","stream":{{stream}}}',
      ctx,
    );
    expect(t.constant).toBe(false);
    const body = JSON.parse(t.render(42));
    expect(body.seq).toBe(42);
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([5, 6, 7]).toContain(body.n);
    expect(body.w).toMatch(/^[a-z]+$/);
    expect(body.p.split(' ')).toHaveLength(4);
    expect(Math.abs(body.ts - Date.now())).toBeLessThan(5000);
    expect(new Date(body.iso).toISOString()).toBe(body.iso);
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.stream).toBe(false);
  });

  it('gives each request its own values', () => {
    const t = compileTemplate('{{seq}} {{uuid}} {{random_prompt}}', ctx);
    const a = t.render(0).split(' ');
    const b = t.render(1).split(' ');
    expect([a[0], b[0]]).toEqual(['0', '1']);
    expect(a[1]).not.toBe(b[1]);
    expect(a.length - 2).toBe(12); // the default prompt is 12 words
  });

  it('keeps random integers in range', () => {
    const t = compileTemplate('{{random_int:-3:3}}', ctx);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(Number(t.render(i)));
    expect([...seen].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });

  it('folds constant variables into the text', () => {
    const t = compileTemplate('{"model":"{{ model }}","stream":{{stream}}}', { model: 'm', stream: true });
    expect(t.constant).toBe(true);
    expect(t.render(7)).toBe('{"model":"m","stream":true}');
    expect(compileTemplate('no variables', ctx).render(1)).toBe('no variables');
  });

  it('rejects unknown variables and bad arguments', () => {
    expect(() => compileTemplate('{{nope}}', ctx)).toThrow(TemplateError);
    expect(() => compileTemplate('{{nope}}', ctx)).toThrow(/known: \{\{seq\}\}/);
    expect(() => compileTemplate('{{random_int:a:b}}', ctx)).toThrow(/not an integer/);
    expect(() => compileTemplate('{{random_int:9:1}}', ctx)).toThrow(/below min/);
    expect(() => compileTemplate('{{random_prompt:0}}', ctx)).toThrow(/at least 1/);
  });
});
