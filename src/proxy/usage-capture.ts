import type { Dispatcher } from 'undici';
import { IncludeUsageFilter } from './include-usage.js';
import { StreamTruncated } from './stream-cut.js';
import { type CapturedUsage, emptyUsage } from './usage-extract.js';
import { JsonUsageSniffer, SseUsageSniffer, type UsageSniffer } from './usage-sniffer.js';

/**
 * A decorating dispatch handler (in the manner of undici's interceptors) that reads usage from
 * the response as it passes to the handler inside it: JSON bodies and event streams, by content
 * type. When the proxy added `stream_options.include_usage` to the request, it also filters the
 * stream back to what the client asked for (include-usage.ts), reading each event once for both.
 */
export class UsageCapture implements Dispatcher.DispatchHandler {
  private sniffer: UsageSniffer | undefined;
  private sse: SseUsageSniffer | undefined;
  private filter: IncludeUsageFilter | undefined;
  /** The request had include_usage added: undo it in the stream. */
  injected = false;
  /** The endpoint's streams end with a final event (stream-cut.ts): one that ends without it is cut. */
  expectsFinalEvent = false;
  /** An Images API request: its JSON answer's images are counted as they pass (usage-sniffer.ts). */
  countImages = false;
  private ok = false;

  /** LOG_BODIES: the first bytes of the response as the client got it, and its content type. */
  private head: Buffer[] | undefined;
  private headBytes = 0;
  responseType = '';

  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly keepBytes = 0,
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
    const type = String(headers['content-type'] ?? '');
    this.responseType = type;
    this.ok = statusCode >= 200 && statusCode < 300;
    if (type.startsWith('text/event-stream')) {
      this.sse = new SseUsageSniffer();
      if (this.injected) {
        this.filter = new IncludeUsageFilter(this.sse);
        // The body changes length: the client gets it without content-length.
        headers['content-length'] = undefined;
      } else this.sniffer = this.sse;
    } else if (type.includes('json')) this.sniffer = new JsonUsageSniffer(this.countImages);
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.filter) {
      const out = this.filter.transform(chunk);
      if (out.length > 0) this.pass(controller, out);
      return;
    }
    this.sniffer?.push(chunk);
    this.pass(controller, chunk);
  }

  private pass(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.keepBytes > 0 && this.headBytes <= this.keepBytes) {
      if (!this.head) this.head = [];
      this.head.push(chunk);
      this.headBytes += chunk.length;
    }
    this.inner.onResponseData?.(controller, chunk);
  }

  /** The first LOG_BODY_MAX_BYTES (or more) of the response body, with the total size known to the caller. */
  responseHead(): Buffer {
    return this.head ? Buffer.concat(this.head) : Buffer.alloc(0);
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.filter) {
      const rest = this.filter.flush();
      if (rest.length > 0) this.pass(controller, rest);
    } else this.sse?.finish();
    if (this.expectsFinalEvent && this.ok && this.sse && !this.sse.ended) {
      this.inner.onResponseError?.(controller, new StreamTruncated());
      return;
    }
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    this.inner.onResponseError?.(controller, err);
  }

  /** What was read from the response so far. */
  usage(): CapturedUsage {
    if (this.filter) return this.filter.usage();
    return this.sniffer ? this.sniffer.finish() : emptyUsage();
  }

  /** Content events of a stream (the estimate's output tokens when a cut stream reported no usage). */
  get textEvents(): number {
    return this.sse?.textEvents ?? 0;
  }
}
