import type { RequestBody } from './request-body.js';
import { SseParser } from './sse-parser.js';
import type { CapturedUsage } from './usage-extract.js';
import type { SseUsageSniffer } from './usage-sniffer.js';

/** Endpoints whose streams report usage only when `stream_options.include_usage` is set. */
export const INCLUDE_USAGE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

/**
 * If a streamed completion request did not ask for usage, returns the body with
 * `stream_options.include_usage: true` added; otherwise undefined (forward the original bytes).
 * Bodies that are not JSON objects are never touched: the upstream judges them.
 */
export function withIncludeUsage(body: RequestBody): Buffer | undefined {
  // Most requests are not streamed: skip parsing those that cannot be (no `"stream": true` anywhere).
  if (!mentionsStreamTrue(body.bytes)) return undefined;
  const req = body.object();
  if (req?.stream !== true) return undefined;
  const opts = req.stream_options;
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) return undefined;
  if ((opts as { include_usage?: unknown } | null | undefined)?.include_usage !== undefined) return undefined;
  // A copy: the parsed body also answers the limits and the accounting, which must see what the client sent.
  return Buffer.from(
    JSON.stringify({ ...req, stream_options: { ...(opts as object | null), include_usage: true } }),
    'utf8',
  );
}

/** Whether `"stream"`, then `:`, then `true` occurs anywhere (searched in the bytes, no decoding). */
function mentionsStreamTrue(body: Buffer): boolean {
  const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
  for (let at = body.indexOf('"stream"'); at !== -1; at = body.indexOf('"stream"', at + 8)) {
    let i = at + 8;
    while (isSpace(body[i])) i++;
    if (body[i] !== 0x3a) continue;
    i++;
    while (isSpace(body[i])) i++;
    if (body.toString('latin1', i, i + 4) === 'true') return true;
  }
  return false;
}

/**
 * Undoes what `withIncludeUsage` made the upstream add, so the client sees the stream it asked for:
 * drops the final usage-only chunk (`"choices":[]` with usage) and the `"usage":null` member that
 * every other chunk then carries. All other bytes pass through unchanged, event by event (a
 * partial event waits for its end), and every event is also shown to the usage sniffer.
 */
export class IncludeUsageFilter {
  private readonly parser: SseParser;
  private out = '';

  constructor(private readonly sniffer: SseUsageSniffer) {
    this.parser = new SseParser((raw, e) => {
      if (e) sniffer.onEvent(e);
      if (e && e.data !== '[DONE]' && isUsageOnlyChunk(e.data)) return;
      this.out += e ? stripNullUsage(raw) : raw;
    });
  }

  /** The bytes to send on for this chunk; empty while an event is incomplete. */
  transform(chunk: Uint8Array): Buffer {
    this.parser.push(chunk);
    return this.take();
  }

  /** End of stream: whatever was still held back. */
  flush(): Buffer {
    this.parser.end();
    return this.take();
  }

  /** The usage read from the events seen so far. */
  usage(): CapturedUsage {
    return this.sniffer.usage;
  }

  private take(): Buffer {
    const out = Buffer.from(this.out, 'utf8');
    this.out = '';
    return out;
  }
}

function isUsageOnlyChunk(data: string): boolean {
  if (!data.includes('"choices":[]') && !data.includes('"choices": []')) return false;
  return data.includes('"usage":{') || data.includes('"usage": {');
}

/**
 * Removes the top-level `"usage":null` member, which OpenAI writes after `choices`, so the last
 * occurrence is the top-level one. Inside JSON strings quotes are escaped, so an unescaped
 * `"usage":null` can only be a member name.
 */
function stripNullUsage(raw: string): string {
  const at = raw.lastIndexOf('"usage":null');
  if (at === -1) return raw;
  const end = at + '"usage":null'.length;
  if (raw[at - 1] === ',') return raw.slice(0, at - 1) + raw.slice(end);
  if (raw[end] === ',') return raw.slice(0, at) + raw.slice(end + 1);
  return raw;
}
