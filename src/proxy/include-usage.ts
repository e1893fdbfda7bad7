import { Transform, type TransformCallback } from 'node:stream';
import { SseParser } from './sse-parser.js';
import type { SseUsageSniffer } from './usage-sniffer.js';

/** Endpoints whose streams report usage only when `stream_options.include_usage` is set. */
export const INCLUDE_USAGE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

/**
 * If a streamed completion request did not ask for usage, returns the body with
 * `stream_options.include_usage: true` added; otherwise undefined (forward the original bytes).
 * Bodies that are not JSON objects are never touched: the upstream judges them.
 */
export function withIncludeUsage(body: Buffer): Buffer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const req = parsed as { stream?: unknown; stream_options?: unknown };
  if (req.stream !== true) return undefined;
  const opts = req.stream_options;
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) return undefined;
  if ((opts as { include_usage?: unknown } | null | undefined)?.include_usage !== undefined) return undefined;
  req.stream_options = { ...(opts as object | null), include_usage: true };
  return Buffer.from(JSON.stringify(req), 'utf8');
}

/**
 * Undoes what `withIncludeUsage` made the upstream add, so the client sees the stream it asked for:
 * drops the final usage-only chunk (`"choices":[]` with usage) and the `"usage":null` member that
 * every other chunk then carries. All other bytes pass through unchanged, event by event, and
 * every event is also shown to the usage sniffer.
 */
export class IncludeUsageFilter extends Transform {
  private readonly parser: SseParser;
  private out: string[] = [];

  constructor(sniffer: SseUsageSniffer) {
    super();
    this.parser = new SseParser((raw, e) => {
      if (e) sniffer.onEvent(e);
      if (e && e.data !== '[DONE]' && isUsageOnlyChunk(e.data)) return;
      this.out.push(e ? stripNullUsage(raw) : raw);
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.parser.push(chunk);
    this.flushOut();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.parser.end();
    this.flushOut();
    done();
  }

  private flushOut(): void {
    if (this.out.length === 0) return;
    this.push(Buffer.from(this.out.join(''), 'utf8'));
    this.out = [];
  }
}

function isUsageOnlyChunk(data: string): boolean {
  if (!data.includes('"choices":[]') && !data.includes('"choices": []')) return false;
  return data.includes('"usage":{') || data.includes('"usage": {');
}

/**
 * Removes the top-level `"usage":null` member. Inside JSON strings quotes are escaped, so an
 * unescaped `"usage":null` can only be a member name; only the first is removed.
 */
function stripNullUsage(raw: string): string {
  if (!raw.includes('"usage":null')) return raw;
  if (raw.includes(',"usage":null')) return raw.replace(',"usage":null', '');
  return raw.replace('"usage":null,', '');
}
