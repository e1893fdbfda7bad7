import { performance } from 'node:perf_hooks';
import type { ProxyRequest } from './proxy-request.js';
import { REQUEST_ID_HEADER } from './reply.js';
import { isReplayable, type RecordedResponse } from './response-recorder.js';

/** A recorded response as kept by a store (response cache, idempotency keys), with when it was recorded. */
export interface StoredResponse extends RecordedResponse {
  /** Epoch milliseconds. */
  storedAt: number;
}

/**
 * Answers the client from a stored response: its status, headers and body as recorded, with the
 * proxy's own request id and Server-Timing (its time only: no upstream was called), a
 * content-length of the stored body, and `extraHeaders` (a flat [name, value, …] list, such as
 * `Cache-Status`). An event stream goes out as its recorded bytes in one write, unbuffered by
 * reverse proxies like a live one. Returns the body bytes sent (0 when the client is gone or a
 * response already started).
 */
export function replay(pr: ProxyRequest, stored: StoredResponse, extraHeaders: readonly string[] = []): number {
  const { res } = pr;
  if (res.headersSent || pr.responseGone) return 0;
  const list = stored.headers.slice();
  list.push(
    'content-length',
    String(stored.body.length),
    REQUEST_ID_HEADER,
    pr.id,
    'server-timing',
    `proxy;dur=${(performance.now() - pr.t0).toFixed(3)}`,
  );
  if (stored.stream) list.push('x-accel-buffering', 'no');
  for (const h of extraHeaders) list.push(h);
  res.writeHead(stored.status, list);
  res.end(stored.body);
  return stored.body.length;
}

/**
 * The binary form, for stores that hold bytes (Redis): a magic and version, the length of a JSON
 * head (status, headers, stream, storedAt), the head, then the body bytes as they are (no base64).
 */
const MAGIC = Buffer.from('LPR1');
const PREFIX = MAGIC.length + 4;

export function storedToBuffer(s: StoredResponse): Buffer {
  const head = Buffer.from(JSON.stringify(headOf(s)));
  const prefix = Buffer.allocUnsafe(PREFIX);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32BE(head.length, MAGIC.length);
  return Buffer.concat([prefix, head, s.body]);
}

/** The stored response in `buf`, or undefined when it is not one (corrupt, foreign, another version). */
export function storedFromBuffer(buf: Buffer): StoredResponse | undefined {
  if (buf.length < PREFIX || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const headLength = buf.readUInt32BE(MAGIC.length);
  if (PREFIX + headLength > buf.length) return undefined;
  const head = headFrom(parsed(buf.toString('utf8', PREFIX, PREFIX + headLength)));
  // A copy: the caller's buffer (a Redis reply) may be large or reused.
  return head && { ...head, body: Buffer.from(buf.subarray(PREFIX + headLength)) };
}

/** The JSON form, for stores that hold text: the head's fields and the body in base64. */
export function storedToJson(s: StoredResponse): string {
  return JSON.stringify({ ...headOf(s), body: s.body.toString('base64') });
}

export function storedFromJson(text: string): StoredResponse | undefined {
  const v = parsed(text);
  const head = headFrom(v);
  const body = (v as { body?: unknown } | undefined)?.body;
  return head && typeof body === 'string' ? { ...head, body: Buffer.from(body, 'base64') } : undefined;
}

interface Head {
  v: 1;
  status: number;
  headers: string[];
  stream: boolean;
  storedAt: number;
}

const headOf = (s: StoredResponse): Head => ({
  v: 1,
  status: s.status,
  headers: s.headers,
  stream: s.stream,
  storedAt: s.storedAt,
});

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The head's fields, checked: whatever a store hands back is replayed to a client, so a malformed
 * entry is no entry. Headers are held to the replayable ones again, in case of a tampered store.
 */
function headFrom(v: unknown): Omit<StoredResponse, 'body'> | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Partial<Record<keyof Head, unknown>>;
  const { status, headers, stream, storedAt } = h;
  if (h.v !== 1 || !Number.isInteger(status) || (status as number) < 200 || (status as number) > 599) return undefined;
  if (typeof stream !== 'boolean' || typeof storedAt !== 'number' || !Number.isFinite(storedAt)) return undefined;
  if (!Array.isArray(headers) || headers.length % 2 !== 0) return undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (typeof name !== 'string' || typeof value !== 'string' || !isReplayable(name) || /[\r\n\0]/.test(value))
      return undefined;
  }
  return { status: status as number, headers: headers as string[], stream, storedAt };
}
