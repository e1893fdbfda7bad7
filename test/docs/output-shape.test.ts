import { describe, expect, it } from 'vitest';
import { shapes } from './output-shape.js';

const same = (sample: string, real: string, lang = 'json') => {
  const s = shapes(sample, lang, real);
  return JSON.stringify(s.real) === JSON.stringify(s.sample);
};

describe('output shapes', () => {
  it('JSON: the same key paths, whatever the values', () => {
    expect(same('{"id":"a","usage":{"n":1}}', '{"usage":{"n":7},"id":"b"}')).toBe(true);
    expect(same('{"id":"a"}', '{"id":"a","max_concurrent":null}')).toBe(false);
    expect(same('{"id":"a","gone":1}', '{"id":"a"}')).toBe(false);
  });

  it('JSON: an empty list in the real output compares as a list; "…" leaves keys out', () => {
    expect(same('{"data":[{"id":1}],"next":null}', '{"data":[],"next":null}')).toBe(true);
    expect(same('{"data":[{"id":1}]}', '{"data":[{"name":1}]}')).toBe(false);
    expect(same('{"totals":{"requests":1,"…":"…"}}', '{"totals":{"requests":1,"errors":0}}')).toBe(true);
    expect(same('{"totals":{"requests":1,"…":"…"}}', '{"totals":{"errors":0}}')).toBe(false);
    expect(same('{"a":1,"…":"…"}', '{"a":1,"b":{"c":2}}')).toBe(true);
    expect(same('{"m":{"gpt-4.1":1,"…":"…"}}', '{"m":{"gpt-4.1":1,"gpt-3.5":2}}')).toBe(true);
  });

  it('a record: its row names in order; a table: its header', () => {
    expect(same('id    1\nname  x\nmax   -', 'id    2\nname  y\nmax   5', 'text')).toBe(true);
    expect(same('id    1\nname  x\nmax   -', 'id    2\nname  y\nmax_concurrent  -\nmax   5', 'text')).toBe(false);
    expect(same('model  requests  errors\ngpt  1  0', 'model  requests  errors\ntotal  0  0', 'text')).toBe(true);
    expect(same('model  requests  errors\ngpt  1  0', 'model  requests\ntotal  0', 'text')).toBe(false);
  });

  it('other text: line by line, numbers and ids aside; an elided sample is not compared', () => {
    expect(same('deleted 0 record(s) older than 90 day(s)', 'deleted 12 record(s) older than 7 day(s)', 'text')).toBe(
      true,
    );
    expect(same('deleted 0 record(s)', 'deleted 0 record(s)\ndeleted 0 event(s)', 'text')).toBe(false);
    expect(shapes('data: {…}\n…', 'text', 'anything').sample.kind).toBe('none');
  });
});
