import { invalidRequest } from './errors.js';

export interface PartHeaders {
  /** The form field name. */
  name: string;
  /** Present on file parts. */
  filename: string | undefined;
  contentType: string | undefined;
}

type MultipartEvent = { type: 'part'; part: PartHeaders } | { type: 'data'; data: Buffer } | { type: 'end' };

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

const malformed = (why: string) => invalidRequest(`Could not parse multipart form: ${why}.`);

export function multipartBoundary(contentType: string | undefined): string {
  const match = /^multipart\/form-data\s*;.*?\bboundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) {
    throw invalidRequest(
      `Invalid Content-Type header (${contentType ?? 'none'}), expected multipart/form-data with a boundary.`,
    );
  }
  return boundary;
}

function parseHeaders(block: string): PartHeaders {
  let disposition = '';
  let contentType: string | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  const params = new Map<string, string>();
  for (const [, key = '', quoted, bare] of disposition.matchAll(
    /;\s*([^=\s;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g,
  )) {
    params.set(key.toLowerCase(), quoted?.replace(/\\(.)/g, '$1') ?? bare?.trim() ?? '');
  }
  const name = params.get('name');
  if (!/^form-data\b/i.test(disposition) || name === undefined) {
    throw malformed('a part lacks Content-Disposition: form-data; name=...');
  }
  return { name, filename: params.get('filename'), contentType };
}

/**
 * Incremental multipart/form-data parser: push chunks as they arrive, get events back. Part data
 * is emitted as it comes (never buffered whole), and a boundary split across chunks is still found,
 * because only the last `delimiter.length - 1` bytes are held back.
 */
export class MultipartParser {
  readonly #delimiter: Buffer;
  // The stream is parsed as if it began with CRLF, so the first boundary matches like the others.
  #pending: Buffer = CRLF;
  #state: 'preamble' | 'delimiter' | 'headers' | 'body' | 'done' = 'preamble';

  constructor(boundary: string) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  push(chunk: Buffer): MultipartEvent[] {
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const events: MultipartEvent[] = [];
    const holdBack = this.#delimiter.length - 1;
    let pos = 0;
    scan: while (pos < buf.length) {
      switch (this.#state) {
        case 'preamble': {
          const at = buf.indexOf(this.#delimiter, pos);
          if (at < 0) {
            pos = Math.max(pos, buf.length - holdBack);
            break scan;
          }
          pos = at + this.#delimiter.length;
          this.#state = 'delimiter';
          break;
        }
        case 'delimiter': {
          if (buf.length - pos < 2) break scan;
          if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) {
            this.#state = 'done';
          } else if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a) {
            // Leave the CRLF in place: an empty header block is then just CRLFCRLF.
            this.#state = 'headers';
          } else {
            throw malformed('boundary not followed by CRLF or --');
          }
          break;
        }
        case 'headers': {
          const at = buf.indexOf(HEADER_END, pos);
          if (at < 0) {
            if (buf.length - pos > MAX_HEADER_BYTES) throw malformed('part headers too large');
            break scan;
          }
          events.push({ type: 'part', part: parseHeaders(buf.toString('utf8', pos + 2, at)) });
          pos = at + HEADER_END.length;
          this.#state = 'body';
          break;
        }
        case 'body': {
          const at = buf.indexOf(this.#delimiter, pos);
          const end = at < 0 ? Math.max(pos, buf.length - holdBack) : at;
          if (end > pos) events.push({ type: 'data', data: buf.subarray(pos, end) });
          if (at < 0) {
            pos = end;
            break scan;
          }
          events.push({ type: 'end' });
          pos = at + this.#delimiter.length;
          this.#state = 'delimiter';
          break;
        }
        case 'done':
          pos = buf.length;
          break;
      }
    }
    // Copied, so a held-back tail does not pin a whole 64 KiB chunk.
    this.#pending = Buffer.from(buf.subarray(pos));
    return events;
  }

  /** Call after the last chunk: throws if the closing boundary never came. */
  end(): void {
    if (this.#state !== 'done') throw malformed('unexpected end of body');
  }
}
