import type { UsageEventV1 } from './usage-event.js';

/** The sinks there are; each is on when its destination is configured, at most one of each. */
export type SinkName = 'webhook' | 'otlp' | 'file';

/**
 * Why a delivery failed. `reason` is short and safe to show anywhere (/health, logs, the dead-letter
 * file): a status, an error code, never a URL, a header or a receiver's text. `retryable: false`
 * means the destination refused this batch itself, so sending the same bytes again cannot help.
 */
export class DeliveryError extends Error {
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
    /** The destination asked for this pause (Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(reason);
  }
}

/** A destination for usage events. The dispatcher calls `deliver` one batch at a time per sink. */
export interface Sink {
  readonly name: SinkName;
  /** Resolves once the destination has acknowledged the whole batch; throws a DeliveryError otherwise. */
  deliver(events: UsageEventV1[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A short reason for any failure: the DeliveryError's own, else a timeout, an abort or the error's code. */
export function failureReason(err: unknown): string {
  if (err instanceof DeliveryError) return err.reason;
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  if (e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED') return 'aborted';
  if (typeof e.code === 'string' && TIMEOUTS.has(e.code)) return 'timeout';
  if (e.code === 'UND_ERR_SOCKET') return 'connection closed';
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  return code ?? 'failed';
}

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
