import type { IncomingHttpHeaders } from 'node:http';
import type { AppError } from '../errors.js';
import type { UsageRecord } from '../usage/usage-writer.js';
import type { Admitted } from './admission.js';
import type { ProxyRequest } from './proxy-request.js';

/** Every hook point, for combineHooks. */
const HOOK_NAMES = [
  'start',
  'admitted',
  'refused',
  'left',
  'upstreamRequest',
  'upstreamHeaders',
  'firstByte',
  'end',
  'realtime',
  'upgradeRefused',
] as const;

/** Both sets of hooks, `a`'s first at every point. */
export function combineHooks(a: ProxyHooks | undefined, b: ProxyHooks): ProxyHooks {
  if (!a) return b;
  const both: ProxyHooks = {};
  for (const name of HOOK_NAMES) {
    const x = a[name] as ((...args: unknown[]) => void) | undefined;
    const y = b[name] as ((...args: unknown[]) => void) | undefined;
    if (x && y)
      (both as Record<string, unknown>)[name] = (...args: unknown[]) => {
        x(...args);
        y(...args);
      };
    else if (x || y) (both as Record<string, unknown>)[name] = x ?? y;
  }
  return both;
}

/** What an event stream's pacing looked like (the leg measures it for streams only). */
export interface StreamStats {
  /** Body chunks relayed to the client. */
  chunks: number;
  /** The longest pause between two chunks, in milliseconds (0 with fewer than two). */
  maxGapMs: number;
}

/**
 * The Realtime API session a record belongs to (proxy/realtime/): a WebSocket session has no
 * ProxyRequest or ServerResponse, only what its upgrade request said.
 */
export interface RealtimeSessionRef {
  /** The session's request id (its own record's id; its responses' records have ids of their own). */
  id: string;
  /** performance.now() when the upgrade request arrived. */
  t0: number;
  /** The upgrade request's headers (a trace context, the user agent). */
  headers: IncomingHttpHeaders;
  clientIp: string | undefined;
  /** `response`: one response completed (or was cut); `session`: the session ended, its last record. */
  kind: 'response' | 'session';
}

/**
 * Where metrics and tracing attach to the request path. Every hook is optional and called as
 * `hooks?.name?.(…)`: with nothing attached, a request pays one property read per point.
 * Hooks run synchronously on the hot path: they must be cheap and must not throw.
 */
export interface ProxyHooks {
  /** The request reached the proxy (before anything is checked). */
  start?(pr: ProxyRequest): void;
  /** It passed every check and limit and is about to go upstream; `a` holds its body facts if they were read. */
  admitted?(pr: ProxyRequest, a: Admitted): void;
  /** The proxy answered it itself; `err.code` is the reason. */
  refused?(pr: ProxyRequest, err: AppError): void;
  /** The client left before its request was admitted or refused: nothing was answered or accounted. */
  left?(pr: ProxyRequest): void;
  /**
   * The request is about to be sent upstream with these headers (once per attempt). A hook may
   * set headers here, and only headers meant for the upstream: tracing writes its `traceparent`.
   */
  upstreamRequest?(pr: ProxyRequest, headers: Record<string, string | string[]>): void;
  /** The upstream's status line and headers arrived; `stream`: an event stream follows. */
  upstreamHeaders?(
    pr: ProxyRequest,
    status: number,
    stream: boolean,
    headers: Record<string, string | string[] | undefined>,
  ): void;
  /** The first response body byte went to the client. */
  firstByte?(pr: ProxyRequest): void;
  /** The exchange is accounted for: the record says how it ended (status, error, usage, timings). */
  end?(pr: ProxyRequest, rec: UsageRecord, stream: StreamStats | undefined): void;
  /**
   * A Realtime API record is accounted: one per response as it completes, then one for the session
   * as it closes (or the only one, for a session whose upstream refused or could not be reached).
   */
  realtime?(s: RealtimeSessionRef, rec: UsageRecord): void;
  /** The proxy refused a WebSocket upgrade itself (token, allowlist, limit, shutdown, path): `err.code` is why. */
  upgradeRefused?(u: RefusedUpgrade, err: AppError): void;
}

/** An upgrade request the proxy answered with an error; `identity` once its token was known. */
export interface RefusedUpgrade {
  id: string;
  clientIp: string | undefined;
  identity: { tokenId: string; projectId: string } | undefined;
}
