/** One Server-Sent Event as parsed: the `event:` name (if any) and the joined `data:` lines. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Called once per block (the text up to and including a blank line). `raw` is the exact text of
 * the block, so a filter can pass it on unchanged; `event` is undefined for comment-only blocks.
 */
export type SseBlockHandler = (raw: string, event: SseEvent | undefined) => void;

/**
 * Incremental SSE parser (WHATWG event-stream rules, enough for OpenAI): input may be split at any
 * byte, including inside a multi-byte character or between `\r` and `\n`. The concatenation of all
 * `raw` blocks equals the input text exactly. Holds at most one partial block.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private partial = '';
  private raw = '';
  private event: string | undefined;
  private data: string[] = [];
  private pendingCr = false;

  constructor(private readonly onBlock: SseBlockHandler) {}

  push(chunk: Uint8Array): void {
    let text = this.decoder.decode(chunk, { stream: true });
    if (text === '') return;
    if (this.pendingCr && text.charCodeAt(0) === 10) {
      // The \n completes a \r\n split across chunks: same line break, already handled.
      this.raw += '\n';
      text = text.slice(1);
    }
    this.pendingCr = text.charCodeAt(text.length - 1) === 13;
    const buf = this.partial + text;
    // Line ends are found with indexOf (native search), not a loop over every character: this runs
    // for every chunk of every stream. OpenAI ends lines with \n; \r is looked for once per chunk.
    let start = 0;
    let from = this.partial.length;
    let cr = buf.indexOf('\r', from);
    for (;;) {
      const lf = buf.indexOf('\n', from);
      let at: number;
      let end: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        at = cr;
        end = buf.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        cr = buf.indexOf('\r', end);
      } else if (lf !== -1) {
        at = lf;
        end = lf + 1;
      } else break;
      this.line(buf.slice(start, at), buf.slice(start, end));
      start = end;
      from = end;
    }
    this.partial = buf.slice(start);
  }

  /** End of stream: a final block without its blank line still counts. */
  end(): void {
    const tail = this.decoder.decode();
    if (tail) this.partial += tail;
    if (this.partial) this.line(this.partial, this.partial);
    this.partial = '';
    if (this.raw) this.dispatch();
  }

  private line(line: string, withBreak: string): void {
    this.raw += withBreak;
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' starts a comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }

  private dispatch(): void {
    const event = this.data.length > 0 ? { event: this.event, data: this.data.join('\n') } : undefined;
    const raw = this.raw;
    this.raw = '';
    this.data = [];
    this.event = undefined;
    this.onBlock(raw, event);
  }
}
