import { describe, expect, it } from 'vitest';
import { sseData } from './sse';

const streamOf = (chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
      c.close();
    },
  });

describe('reading a chat stream', () => {
  it('yields each data line, whatever the chunk boundaries and line ends', async () => {
    const text = 'data: {"a":1}\r\n\r\ndata: {"b":"é"}\n\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    // Split at every byte, a multi-byte character included.
    const oneByOne = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const out: string[] = [];
    for await (const d of sseData(oneByOne)) out.push(d);
    expect(out).toEqual(['{"a":1}', '{"b":"é"}', '[DONE]']);
    const whole: string[] = [];
    for await (const d of sseData(streamOf([text, 'data: tail']))) whole.push(d);
    expect(whole).toEqual(['{"a":1}', '{"b":"é"}', '[DONE]', 'tail']);
  });
});
