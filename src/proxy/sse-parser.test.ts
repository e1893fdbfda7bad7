import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from './sse-parser.js';

function parse(chunks: Uint8Array[]): { raw: string; events: SseEvent[] } {
  let raw = '';
  const events: SseEvent[] = [];
  const p = new SseParser((r, e) => {
    raw += r;
    if (e) events.push(e);
  });
  for (const c of chunks) p.push(c);
  p.end();
  return { raw, events };
}

const STREAM =
  'event: response.created\r\ndata: {"a":1}\r\n\r\n' +
  ': keep-alive comment\n\n' +
  'data: {"text":"héllo 👋"}\n\n' +
  'data: line one\ndata: line two\n\n' +
  'data:no-space\r\rdata: [DONE]\n\n';

describe('SseParser', () => {
  it('parses events, comments, multi-line data and every line ending', () => {
    const { raw, events } = parse([Buffer.from(STREAM)]);
    expect(raw).toBe(STREAM);
    expect(events).toEqual([
      { event: 'response.created', data: '{"a":1}' },
      { event: undefined, data: '{"text":"héllo 👋"}' },
      { event: undefined, data: 'line one\nline two' },
      { event: undefined, data: 'no-space' },
      { event: undefined, data: '[DONE]' },
    ]);
  });

  it('gives the same result however the bytes are split, even inside characters and CRLF pairs', () => {
    const bytes = Buffer.from(STREAM);
    const whole = parse([bytes]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const split = parse([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(split, `cut at ${cut}`).toEqual(whole);
    }
    const oneByOne = parse([...bytes].map((b) => Uint8Array.of(b)));
    expect(oneByOne).toEqual(whole);
  });

  it('reports a final event that has no closing blank line', () => {
    const { raw, events } = parse([Buffer.from('data: tail')]);
    expect(raw).toBe('data: tail');
    expect(events).toEqual([{ event: undefined, data: 'tail' }]);
  });
});
