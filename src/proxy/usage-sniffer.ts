import { type SseEvent, SseParser } from './sse-parser.js';
import { type CapturedUsage, countUnit, emptyUsage, readBody, readUsage, unitsOf } from './usage-extract.js';

/** Watches response bytes go by and reports usage at the end. Never changes or holds the bytes. */
export interface UsageSniffer {
  push(chunk: Uint8Array): void;
  finish(): CapturedUsage;
}

/**
 * Bodies up to this size are parsed whole; larger ones (embeddings: ~33 KB per 1536-dim vector)
 * only at their head and tail, which is where OpenAI puts `model` and `usage`. Parsing a large
 * body whole would cost more CPU than the rest of the request.
 */
const FULL_PARSE_LIMIT = 16 * 1024;
const EDGE = 8 * 1024;

/**
 * JSON responses. Small bodies are parsed whole. For large ones only the first and last 64 KiB are
 * kept: OpenAI puts `model` near the top or bottom and `usage` last, so memory stays bounded.
 */
export class JsonUsageSniffer implements UsageSniffer {
  private chunks: Uint8Array[] = [];
  /** Bytes held in `chunks`. */
  private size = 0;
  private head: Buffer | undefined;
  /** Images API answers: base64 images counted as they pass (a large body is never parsed whole). */
  private readonly images: MarkerCounter | undefined;

  constructor(countImages = false) {
    if (countImages) this.images = new MarkerCounter(B64_JSON);
  }

  push(chunk: Uint8Array): void {
    this.images?.push(chunk);
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Past the limit keep the head once, then trim the tail only when it has doubled: amortised O(1).
    if (this.head === undefined ? this.size > FULL_PARSE_LIMIT : this.size > 2 * EDGE) {
      const all = Buffer.concat(this.chunks);
      this.head ??= Buffer.from(all.subarray(0, EDGE));
      const tail = Buffer.from(all.subarray(all.length - EDGE));
      this.chunks = [tail];
      this.size = tail.length;
    }
  }

  finish(): CapturedUsage {
    const usage = emptyUsage();
    const only = this.chunks.length === 1 ? this.chunks[0] : undefined;
    const body = Buffer.isBuffer(only) ? only : Buffer.concat(this.chunks);
    if (!this.head) {
      try {
        readBody(JSON.parse(body.toString('utf8')), usage);
      } catch {
        // Not JSON after all (or truncated): nothing to capture.
      }
      return usage;
    }
    const text = `${this.head.toString('utf8')}\n${body.toString('utf8')}`;
    const model = /"model"\s*:\s*"([^"\\]{1,200})"/.exec(text);
    if (model?.[1]) usage.model = model[1];
    const u = lastObjectAfter(body.toString('utf8'), '"usage"');
    if (u) readUsage(u, usage);
    if (this.images && this.images.count > 0) {
      countUnit(usage, 'images', this.images.count);
      const units = unitsOf(usage);
      const size = /"size"\s*:\s*"([^"\\]{1,40})"/.exec(text)?.[1];
      const quality = /"quality"\s*:\s*"([^"\\]{1,40})"/.exec(text)?.[1];
      if (size) units.size = size;
      if (quality) units.quality = quality;
    }
    const tier = /"service_tier"\s*:\s*"([^"\\]{1,40})"/.exec(text)?.[1];
    if (tier) usage.serviceTier = tier;
    return usage;
  }
}

const B64_JSON = Buffer.from('"b64_json"');

/** Counts a byte marker in a stream of chunks, across chunk boundaries, without holding the stream. */
class MarkerCounter {
  count = 0;
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly marker: Buffer) {}

  push(chunk: Uint8Array): void {
    const m = this.marker;
    const buf =
      this.carry.length > 0
        ? Buffer.concat([this.carry, chunk])
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // A match inside the carry alone was counted with the chunk before.
    for (let i = buf.indexOf(m); i !== -1; i = buf.indexOf(m, i + m.length)) {
      if (i + m.length > this.carry.length) this.count++;
    }
    this.carry = Buffer.from(buf.subarray(Math.max(0, buf.length - (m.length - 1))));
  }
}

/** Parses the balanced JSON object that follows the last occurrence of `key:`. */
function lastObjectAfter(text: string, key: string): unknown {
  const at = text.lastIndexOf(key);
  if (at === -1) return undefined;
  const open = text.indexOf('{', at);
  if (open === -1) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        return JSON.parse(text.slice(open, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Reads usage from SSE events: chat/completions chunks (`usage` in the final chunk, `model` in
 * every chunk, `finish_reason`) and Responses API events (`response.completed` and friends carry
 * the whole response with its usage). Events are parsed only when they can hold what we need.
 */
export class SseUsageSniffer implements UsageSniffer {
  readonly usage = emptyUsage();
  /**
   * Events that carried generated text. OpenAI streams about one token per such event, so when a
   * stream ends without a usage report (cut short) this estimates what was actually produced.
   */
  textEvents = 0;
  /**
   * The stream's final event went by: `[DONE]`, a chat or completion chunk with a finish_reason,
   * the Responses API's last event, or an error event.
   */
  ended = false;
  private readonly parser = new SseParser((_raw, e) => {
    if (e) this.onEvent(e);
  });

  push(chunk: Uint8Array): void {
    this.parser.push(chunk);
  }

  finish(): CapturedUsage {
    this.parser.end();
    return this.usage;
  }

  private imageCompleted(d: string): void {
    const parsed = safeParse(d) as { usage?: unknown; size?: unknown; quality?: unknown } | undefined;
    countUnit(this.usage, 'images');
    if (!parsed) return;
    if (parsed.usage) readUsage(parsed.usage, this.usage);
    const units = unitsOf(this.usage);
    if (typeof parsed.size === 'string') units.size = parsed.size;
    if (typeof parsed.quality === 'string') units.quality = parsed.quality;
  }

  onEvent(e: SseEvent): void {
    const d = e.data;
    if (d === '[DONE]') {
      this.ended = true;
      return;
    }
    const type = e.event;
    // An error the upstream reports in the stream ends it by its own account (clients raise on it).
    if (type === 'error' || d.startsWith('{"error"')) {
      this.ended = true;
      return;
    }
    if (type?.startsWith('response.')) {
      if (type === 'response.output_text.delta') this.textEvents++;
      else if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
        this.ended = true;
        const parsed = safeParse(d) as { response?: unknown } | undefined;
        readBody(parsed?.response, this.usage);
      } else if (this.usage.model === null && type === 'response.created') {
        readBody((safeParse(d) as { response?: unknown } | undefined)?.response, this.usage);
      }
      return;
    }
    // Image streams (gpt-image): partial images are large and carry nothing billed; each completed image does.
    if (type?.startsWith('image_')) {
      if (type.endsWith('.completed')) this.imageCompleted(d);
      return;
    }
    if (CONTENT_DELTA.test(d)) this.textEvents++;
    // Chat/completions chunks: parse the first (model), any with a finish_reason, and any with usage.
    const hasUsage = d.includes('"usage":{') || d.includes('"usage": {');
    const hasFinish = d.includes('"finish_reason":"') || d.includes('"finish_reason": "');
    // A finish_reason says the answer is whole: an OpenAI-compatible server that then ends without
    // `[DONE]` (some do) has sent a complete stream, not a truncated one.
    if (hasFinish) this.ended = true;
    if (this.usage.model !== null && !hasUsage && !hasFinish) return;
    const parsed = safeParse(d);
    if (parsed !== undefined) readBody(parsed, this.usage);
  }
}

/** A chat delta with non-empty content, or a legacy completion chunk with non-empty text. */
const CONTENT_DELTA = /"(?:content|text)": ?"[^"]/;

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
