import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { AppError, errors } from '../errors.js';
import { responseHeaderList } from './headers.js';
import type { ProxyHooks, StreamStats } from './hooks.js';
import { retryHintMs } from './key-health.js';
import type { ProxyRequest } from './proxy-request.js';
import { REQUEST_ID_HEADER } from './reply.js';
import { noMoreRetries } from './retry-policy.js';
import { cutResponse, StreamTruncated } from './stream-cut.js';
import type { StreamedUpload } from './upload.js';
import type { Upstream } from './upstream-pools.js';

/** What started a leg and hears how it ended: the exchange (forward.ts). */
export interface LegOwner {
  /** The response went to the client in full, or was cut after its status was sent (`leg.error`). */
  onLegEnd(leg: UpstreamLeg): void;
  /**
   * The leg failed before any byte reached the client (connect, timeout, reset, refused body).
   * Nothing has been written, so the owner may answer with an error or start the request again
   * on another upstream key (retry and failover attach here).
   */
  onLegFailed(leg: UpstreamLeg, err: Error): void;
  /** The upstream's status arrived (`leg.status`, `leg.retryHintMs`), just before the client's head is written. */
  onLegStatus(leg: UpstreamLeg): void;
}

/**
 * One attempt at the upstream, and the innermost undici dispatch handler: response bytes go
 * straight from the upstream socket to the client's, with backpressure both ways (pause the
 * upstream while the client's buffer is full, resume on drain). Decorating handlers (usage
 * capture, the include_usage filter; later a cache tee) wrap it the way undici's interceptors do.
 * It measures what it sees: times, status, bytes.
 */
export class UpstreamLeg implements Dispatcher.DispatchHandler, StreamStats {
  controller: Dispatcher.DispatchController | undefined;
  tSent = 0;
  tHeaders: number | undefined;
  tFirstByte: number | undefined;
  status = 0;
  /** The response is an event stream. */
  stream = false;
  bytesOut = 0;
  /** Streams only: chunks relayed, the longest pause between two, and when the last one came. */
  chunks = 0;
  maxGapMs = 0;
  private tLastChunk = 0;
  /** A 429 or 5xx: how long the upstream asked to be left alone (key-health.ts), if it said. */
  retryHintMs: number | undefined;
  /** The upstream's response headers, as parsed (the balancer reads their rate-limit headroom). */
  headers: Record<string, string | string[] | undefined> = NO_HEADERS;
  /** Why a response that had started ended early (the client saw it cut). */
  error: string | null = null;
  /** A body piped upstream as it arrives: watched for stalls from the moment undici starts sending it. */
  upload: StreamedUpload | undefined;
  /** UPSTREAM_HEADERS_TIMEOUT_MS of this attempt (0 = none), and its timer while it runs. */
  private headersTimeoutMs = 0;
  private headersTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pr: ProxyRequest,
    private readonly owner: LegOwner,
    private readonly hooks: ProxyHooks | undefined,
  ) {}

  /** Sends the request to the upstream's pool through `handler` (this leg, or decorators around it). */
  dispatch(
    upstream: Upstream,
    path: string,
    headers: Record<string, string | string[]>,
    body: Readable | Buffer | null,
    handler: Dispatcher.DispatchHandler = this,
  ): void {
    this.tSent = performance.now();
    this.headersTimeoutMs = upstream.headersTimeoutMs;
    upstream.pool.dispatch({ method: this.pr.method as Dispatcher.HttpMethod, path, headers, body }, handler);
  }

  abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pr.clientGone) {
      controller.abort(new Error('client closed the connection'));
      return;
    }
    this.upload?.start(controller);
    if (this.headersTimeoutMs === 0) return;
    // The wait for the answer starts once the request is sent: at once for a body in hand, at the
    // end of one piped from the client (until then it is PROXY_BODY_IDLE_TIMEOUT_MS's and
    // PROXY_BODY_TIMEOUT_MS's).
    const { req } = this.pr;
    if (this.upload && !req.complete) req.once('end', () => this.startHeadersTimer());
    else this.startHeadersTimer();
  }

  /**
   * UPSTREAM_HEADERS_TIMEOUT_MS on a Node timer, which fires within a millisecond or two of its time
   * (undici's own fires up to a second late; see upstream-pools.ts). One timer per request, cleared
   * by the headers or by the end of the attempt.
   */
  private startHeadersTimer(): void {
    if (this.tHeaders !== undefined || this.controller?.aborted) return;
    this.headersTimer = setTimeout(onHeadersTimeout, this.headersTimeoutMs, this);
  }

  /** The attempt ended before its head reached this handler (a retry dropped it): its headers timer stops. */
  answered(): void {
    clearTimeout(this.headersTimer);
  }

  /** The headers did not come in time: abort, and the leg fails with 504 (onResponseError). */
  headersTimedOut(): void {
    this.headersTimer = undefined;
    this.controller?.abort(errors.upstreamTimeout('waiting for response headers'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    const { pr } = this;
    clearTimeout(this.headersTimer);
    const tHeaders = performance.now();
    this.tHeaders = tHeaders;
    this.status = statusCode;
    this.headers = headers;
    if (statusCode === 429 || statusCode >= 500) this.retryHintMs = retryHintMs(headers, statusCode, Date.now());
    this.stream = String(headers['content-type'] ?? '').startsWith('text/event-stream');
    // A decorator that rewrites the body removes content-length from the parsed headers.
    const dropLength = headers['content-length'] === undefined;
    this.owner.onLegStatus(this);
    const { list, upstreamTiming } = responseHeaderList(
      controller.rawHeaders as Buffer[] | Record<string, string | string[] | undefined>,
      dropLength,
    );
    const proxyMs = this.tSent - pr.t0 + (performance.now() - tHeaders);
    const timing = `proxy;dur=${proxyMs.toFixed(3)}, upstream;dur=${(tHeaders - this.tSent).toFixed(3)}`;
    list.push(REQUEST_ID_HEADER, pr.id, 'server-timing', upstreamTiming ? `${upstreamTiming}, ${timing}` : timing);
    if (this.stream) list.push('x-accel-buffering', 'no');
    if (pr.retries > 0 && statusCode >= 400) noMoreRetries(list);
    if (pr.extraHeaders !== undefined) for (const h of pr.extraHeaders) list.push(h);
    pr.res.writeHead(statusCode, list);
    if (this.stream) pr.res.flushHeaders();
    this.hooks?.upstreamHeaders?.(pr, statusCode, this.stream, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.tFirstByte === undefined) {
      this.tFirstByte = performance.now();
      this.hooks?.firstByte?.(this.pr);
    }
    if (this.stream) {
      const t = this.chunks === 0 ? (this.tFirstByte as number) : performance.now();
      if (this.chunks > 0 && t - this.tLastChunk > this.maxGapMs) this.maxGapMs = t - this.tLastChunk;
      this.tLastChunk = t;
      this.chunks++;
    }
    this.bytesOut += chunk.length;
    const { res } = this.pr;
    if (!res.write(chunk)) {
      // The client reads slower than the upstream sends: hold the upstream until it catches up.
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.pr.res.end();
    this.owner.onLegEnd(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const { pr } = this;
    clearTimeout(this.headersTimer);
    if (!pr.res.headersSent) {
      this.owner.onLegFailed(this, err);
      return;
    }
    // Mid-stream: the status is already sent, so the client sees the stream end abruptly.
    this.error = pr.clientGone ? 'client_aborted' : streamError(err);
    cutResponse(pr.res);
    this.owner.onLegEnd(this);
  }
}

const NO_HEADERS: Record<string, string | string[] | undefined> = Object.freeze({});

function onHeadersTimeout(leg: UpstreamLeg): void {
  leg.headersTimedOut();
}

function streamError(err: unknown): string {
  // Our own errors (a body cut by the idle timeout) carry their catalogue code.
  if (err instanceof AppError || err instanceof StreamTruncated) return err.code;
  return (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT' ? 'upstream_idle_timeout' : 'upstream_stream_error';
}
