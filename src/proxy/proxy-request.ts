import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ClaimRef } from '../idempotency/idempotency-store.js';
import type { TraceIds } from '../observability/access-log.js';
import type { UpstreamKey } from '../projects/upstream-key.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import { endpointFamily } from './endpoint-family.js';
import type { SlotWaiter } from './upstream-gate.js';

/**
 * One request through the proxy: what every stage (admission, upstream leg, accounting) reads.
 * The stages keep their own state; this holds only what they share.
 */
export class ProxyRequest implements SlotWaiter {
  /** performance.now() when the request reached the proxy: the base of every duration measured. */
  readonly t0 = performance.now();
  readonly method: string;
  /** The URL path without the query string. */
  readonly path: string;
  /** The peer's address, read on arrival: a connection that is gone by the end has no socket left. */
  readonly clientIp: string | undefined;
  /**
   * A body of undeclared length follows: HTTP/1.1 chunked, or an HTTP/2 request with DATA frames
   * and no content-length (HTTP/2 has no Transfer-Encoding; a bodiless request ends with its headers).
   */
  readonly chunked: boolean;
  /** Set once the token is known. */
  identity: TokenIdentity | undefined;
  /** The upstream key the request is sent with, chosen at admission (key-choice.ts); a retry may change it. */
  upstreamKey: UpstreamKey | undefined;
  /** Attempts at the upstream after the first (failover.ts): the usage record's `retries`. */
  retries = 0;
  /** Its Idempotency-Key, claimed for it until its response is stored or the key released (idempotent-request.ts). */
  idempotencyClaim: ClaimRef | undefined;
  /** The client closed its connection before the exchange ended. */
  clientGone = false;
  /** The request's server span, when tracing is on (set by its `start` hook): logged with every line about it. */
  trace: TraceIds | undefined;
  /** Response headers the proxy adds to the upstream's (a flat [name, value, …] list): Cache-Status. */
  extraHeaders: string[] | undefined;
  /** Set while it waits in an upstream's queue for a connection slot (admission.ts). */
  slotWait: ((granted: boolean) => void) | undefined;
  private familyName: string | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The request id, which is also the usage record's id. */
    readonly id: string,
    /** The client sent `Expect: 100-continue` and waits for our `100 Continue` before its body. */
    private continuePending: boolean,
  ) {
    this.method = req.method ?? 'GET';
    this.clientIp = req.socket?.remoteAddress;
    this.chunked =
      req.headers['transfer-encoding'] !== undefined ||
      (req.httpVersionMajor === 2 &&
        req.headers['content-length'] === undefined &&
        !(req as unknown as Http2ServerRequest).stream.endAfterHeaders);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
  }

  /**
   * The whole response went out. node:http2 reports a stream the client reset as finished too, so
   * there it also takes the proxy's own end() having been called.
   */
  get responseComplete(): boolean {
    return this.res.writableFinished && (this.req.httpVersionMajor !== 2 || this.res.writableEnded);
  }

  /** The response can no longer be sent: the connection (HTTP/1.1) or the stream (HTTP/2) is gone. */
  get responseGone(): boolean {
    return this.res.destroyed || (this.res as unknown as Http2ServerResponse).stream?.destroyed === true;
  }

  /** The endpoint family of its path (`chat.completions`), for metrics and spans: worked out once. */
  get family(): string {
    this.familyName ??= endpointFamily(this.path);
    return this.familyName;
  }

  /**
   * Sends the `100 Continue` a client waits for before uploading its body: only once the checks
   * that need no body have passed, so a refused request gets its 401/403/413/429 without the upload.
   */
  letBodyIn(): void {
    if (!this.continuePending) return;
    this.continuePending = false;
    this.res.writeContinue();
  }

  onSlot(granted: boolean): void {
    const wait = this.slotWait;
    this.slotWait = undefined;
    wait?.(granted);
  }
}
