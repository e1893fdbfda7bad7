import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { TraceIds } from '../observability/access-log.js';
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
  /** Set once the token is known. */
  identity: TokenIdentity | undefined;
  /** The client closed its connection before the exchange ended. */
  clientGone = false;
  /** The request's server span, when tracing is on (set by its `start` hook): logged with every line about it. */
  trace: TraceIds | undefined;
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
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
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
