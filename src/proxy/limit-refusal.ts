import { type AppError, errors } from '../errors.js';
import type { RateState, Refusal } from '../limits/limits.js';
import type { UpstreamGate } from './upstream-gate.js';

/**
 * A limiter refusal as a 429 with the proxy's own OpenAI-style rate-limit headers, and the time a
 * retry can pass when there is one (the catalogue turns it into Retry-After and x-should-retry).
 * A request estimated to cost more than a whole budget can never pass, whatever the period.
 */
export function refusalError(r: Refusal, rate: RateState, estimatedCostNanoUsd = 0): AppError {
  const headers = rateHeaders(rate);
  const who = r.subject.kind;
  switch (r.kind) {
    case 'requests':
      return errors.requestLimitReached(who, r.limit, headers);
    case 'requests_per_minute':
      return errors.requestRateExceeded(who, r.limit, headers, r.retryAfterMs);
    case 'max_concurrent':
      return errors.maxConcurrentReached(who, r.limit, headers);
    case 'tokens_per_minute':
      return errors.tokenRateExceeded(who, r.limit, headers, r.retryAfterMs);
    case 'budget':
      return errors.budgetExceeded(who, r.limit, r.subject.budgetPeriod, headers, r.retryAfterMs, estimatedCostNanoUsd);
  }
}

/** `x-ratelimit-*` headers in OpenAI's format (reset as a duration such as `1.5s` or `6m0s`). */
function rateHeaders(rate: RateState): Record<string, string> {
  const h: Record<string, string> = {};
  if (rate.limitRequests !== undefined) {
    h['x-ratelimit-limit-requests'] = String(rate.limitRequests);
    h['x-ratelimit-remaining-requests'] = String(rate.remainingRequests ?? 0);
    h['x-ratelimit-reset-requests'] = duration(rate.resetRequestsMs ?? 0);
  }
  if (rate.limitTokens !== undefined) {
    h['x-ratelimit-limit-tokens'] = String(rate.limitTokens);
    h['x-ratelimit-remaining-tokens'] = String(rate.remainingTokens ?? 0);
    h['x-ratelimit-reset-tokens'] = duration(rate.resetTokensMs ?? 0);
  }
  return h;
}

function duration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 10) / 100}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** 429 for a token or project that already holds its share of an upstream's connections. */
export function shareRefusal(gate: UpstreamGate): AppError {
  return errors.concurrencyLimited(
    `This token or its project already has ${gate.shareCap} requests in flight or waiting on this upstream, its share of the ${gate.slots} connections; retry when one ends.`,
  );
}
