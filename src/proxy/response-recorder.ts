import type { Dispatcher } from 'undici';

/** A response as the client got it: what a replay needs (replay.ts). */
export interface RecordedResponse {
  status: number;
  /** The headers worth replaying (`replayableHeaders`): lower-case names, a flat [name, value, …] list. */
  headers: string[];
  body: Buffer;
  /** An event stream (text/event-stream), replayed as such. */
  stream: boolean;
}

/**
 * Response headers kept for a replay. An allowlist, because a replayed answer must not carry
 * what belonged to the original exchange alone:
 * - kept: the body's description (`content-type`, `content-encoding`, `content-language`), the
 *   upstream's identification of the answer (`x-request-id`, `openai-*`: model, organization,
 *   project, version, processing-ms; Azure's `apim-request-id` and `x-ms-*`).
 * - dropped: hop-by-hop headers (RFC 9110), `content-length` and `transfer-encoding` (the replay
 *   sends the stored bytes with their own length), `set-cookie` (a credential of whoever made
 *   the first request), `x-ratelimit-*` and `retry-after` (the state of an upstream key at that
 *   moment, which a replay does not touch), `date`, `server-timing` and the proxy's own request
 *   id (the replay writes fresh ones), and anything unknown.
 */
const KEPT = new Set(['content-type', 'content-encoding', 'content-language', 'x-request-id', 'apim-request-id']);
const KEPT_PREFIXES = ['openai-', 'x-ms-'];

export function isReplayable(name: string): boolean {
  if (KEPT.has(name)) return true;
  for (const p of KEPT_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

/** undici's parsed response headers (lower-case names) reduced to the replayable ones, flattened. */
export function replayableHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || !isReplayable(name)) continue;
    if (Array.isArray(v)) for (const one of v) out.push(name, one);
    else out.push(name, v);
  }
  return out;
}

/**
 * A decorating dispatch handler (like usage-capture.ts) that records the response it passes to
 * the handler inside it: status, replayable headers, and the body bytes up to `maxBytes`. It sits
 * inside the usage capture, so a stream is recorded as the client got it (after the include_usage
 * filter). Only attached for requests that may be replayed (cache, idempotency): a request
 * without one pays nothing.
 *
 * `response()` is the recording only when it is complete: the response ended normally, was not
 * cut (upstream reset, idle timeout, client gone: `onResponseError`), and fit the bound. Past the
 * bound the bytes already kept are released and the rest is not kept.
 */
export class ResponseRecorder implements Dispatcher.DispatchHandler {
  status = 0;
  headers: string[] = [];
  stream = false;
  /** Body bytes seen, kept or not. */
  bytes = 0;
  /** The body grew past `maxBytes`: nothing of it is kept. */
  overflow = false;
  /** How the response ended: undefined while it runs. */
  outcome: 'ended' | 'failed' | undefined;
  private chunks: Buffer[] = [];

  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly maxBytes: number,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.status = statusCode;
    this.headers = replayableHeaders(headers);
    this.stream = String(headers['content-type'] ?? '').startsWith('text/event-stream');
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.overflow) {
      if (this.bytes > this.maxBytes) {
        this.overflow = true;
        this.chunks = [];
      } else this.chunks.push(chunk);
    }
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    this.outcome = 'ended';
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    this.outcome = 'failed';
    this.chunks = [];
    this.inner.onResponseError?.(controller, err);
  }

  /** Ended normally and within the bound. */
  get complete(): boolean {
    return this.outcome === 'ended' && !this.overflow;
  }

  /**
   * The recorded response when complete, else undefined. The body is one fresh buffer: the
   * chunks may be views into larger socket reads, which a long-lived copy must not pin.
   */
  response(): RecordedResponse | undefined {
    if (!this.complete) return undefined;
    return {
      status: this.status,
      headers: this.headers,
      body: Buffer.concat(this.chunks, this.bytes),
      stream: this.stream,
    };
  }
}
