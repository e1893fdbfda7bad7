import type { Config } from '../config/config.js';
import { AppError } from '../errors.js';
import type { Clock } from '../shared/clock.js';
import { RetryBudget } from './retry-budget.js';

/** UPSTREAM_RETRY_*: how often, how long and how much the proxy retries a failed attempt. */
export type RetryOptions = Config['proxy']['retry'];

/**
 * Why an attempt failed, as the retry counts it (the `reason` label of
 * llm_proxy_upstream_retries_total; a fixed set). `connect` and `rate_limited`: the upstream did
 * not run the request, so it is retried freely; the others only when it is safe to run it twice.
 */
export const RETRY_REASONS = ['connect', 'rate_limited', 'server_error', 'timeout', 'reset'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

/** A status worth another attempt: 429 (not run) and 5xx (may have run). */
export function statusReason(status: number): RetryReason | undefined {
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'server_error' : undefined;
}

/** Errors raised before a connection to the upstream existed: the request was never sent. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * A failed attempt (no response head): a connection that could not be made; the proxy's own
 * headers timeout; or a connection lost after the request went out. The proxy's other errors (a
 * refused body) are the request's own: never retried.
 */
export function errorReason(err: Error): RetryReason | undefined {
  if (err instanceof AppError) return err.code === 'upstream_timeout' ? 'timeout' : undefined;
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  return CONNECT_CODES.has(code) ? 'connect' : 'reset';
}

/** The upstream did not run the request: retried without asking whether it may run twice. */
export function notRun(reason: RetryReason): boolean {
  return reason === 'connect' || reason === 'rate_limited';
}

/** The request says it may be run twice: it carries an `Idempotency-Key` (IETF draft). */
export function carriesIdempotencyKey(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['idempotency-key'] !== undefined;
}

/** The proxy's retries: options, the global budget and what was retried (for the metrics). */
export class Retries {
  readonly budget: RetryBudget;
  /** Retries started, by reason. */
  private readonly counts = new Map<RetryReason, number>(RETRY_REASONS.map((r) => [r, 0]));

  constructor(
    readonly opts: RetryOptions,
    now: Clock,
  ) {
    this.budget = new RetryBudget(opts.budgetPercent, opts.budgetMinPerSecond, now);
  }

  get enabled(): boolean {
    return this.opts.maxAttempts > 1;
  }

  counted(reason: RetryReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  /** Retries by reason, for the metrics. */
  byReason(): { reason: RetryReason; count: number }[] {
    return RETRY_REASONS.map((reason) => ({ reason, count: this.counts.get(reason) ?? 0 }));
  }
}

/**
 * The response head of an upstream failure the proxy already retried (its own errors:
 * `AppError.afterRetries`): `x-should-retry: false`, so an SDK
 * does not multiply the attempts (the openai SDKs obey it over their own status rules), unless
 * the upstream said when to come back (`retry-after`, `retry-after-ms`): then a later try is
 * sensible and the SDK's own rules apply. The upstream's own `x-should-retry` gives way to ours.
 */
export function noMoreRetries(list: string[]): void {
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    if (name === 'retry-after' || name === 'retry-after-ms') return;
  }
  for (let i = list.length - 2; i >= 0; i -= 2) {
    if ((list[i] as string).toLowerCase() === 'x-should-retry') list.splice(i, 2);
  }
  list.push('x-should-retry', 'false');
}
