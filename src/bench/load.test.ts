import { describe, expect, it } from 'vitest';
import { SseEventCounter } from './load.js';

function count(chunks: string[]): number {
  const c = new SseEventCounter();
  return chunks.reduce((n, chunk) => n + c.push(Buffer.from(chunk)), 0);
}

describe('SSE event counting', () => {
  const stream =
    'data: {"a":1}\n\n' +
    'event: response.completed\ndata: {"b":2}\n\n' +
    ': keep-alive comment\n\n' +
    'data: [DONE]\n\n';

  it('counts events ended by a blank line', () => {
    expect(count([stream])).toBe(4);
    expect(count(['data: x\n\n\n\ndata: y\n\n'])).toBe(2); // extra blank lines end nothing
    expect(count(['\n\ndata: x\n'])).toBe(0); // no blank line after the field yet
  });

  it('counts the same whatever the chunk boundaries, LF or CRLF', () => {
    for (const text of [stream, stream.replace(/\n/g, '\r\n')]) {
      for (let cut = 0; cut <= text.length; cut++) {
        expect(count([text.slice(0, cut), text.slice(cut)])).toBe(4);
      }
      expect(count([...text])).toBe(4); // one byte at a time
    }
  });

  it('starts afresh after reset', () => {
    const c = new SseEventCounter();
    c.push(Buffer.from('data: half'));
    c.reset();
    expect(c.push(Buffer.from('\n\n'))).toBe(0);
  });
});
