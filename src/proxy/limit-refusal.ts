import { type AppError, errors } from '../errors.js';
import type { RateState, Refusal } from '../limits/limits.js';
import type { UpstreamGate } from './upstream-gate.js';

/**
 * A limiter refusal as a 429 with the proxy's own OpenAI-style rate-limit headers, and the time a
 * retry can pass when there is one (the catalogue turns it into Retry-After and x-should-retry).
 * A request estimated to cost more than a whole budget can never pass, whatever the period.
 */
export function refusalError(r: Refusal, rate: RateState, estimatedCostMicroUsd = 0): AppError {
  const who = r.subject.kind === 'token' ? 'This token' : "This token's project";
  const headers: Record<string, string> = rateHeaders(rate);
  const retryAfterMs = r.kind === 'budget' && estimatedCostMicroUsd > r.limit ? undefined : r.retryAfterMs;
  switch (r.kind) {
    case 'requests':
      return errors.limitReached(
        'request_limit_reached',
        r.limit === 1 ? `${who} has used its 1 request.` : `${who} has used all of its ${r.limit} requests.`,
        headers,
      );
    case 'requests_per_minute':
      return errors.limitReached(
        'rate_limit_exceeded',
        `${who} is limited to ${r.limit} ${r.limit === 1 ? 'request' : 'requests'} per minute.`,
        headers,
        retryAfterMs,
      );
    case 'max_concurrent':
      return errors.concurrencyLimited(`${who} is limited to ${r.limit} concurrent requests.`, headers);
    case 'tokens_per_minute':
      return errors.limitReached(
        'tokens_rate_limit_exceeded',
        `${who} is limited to ${r.limit} ${r.limit === 1 ? 'token' : 'tokens'} per minute.`,
        headers,
        retryAfterMs,
      );
    case 'budget':
      return errors.limitReached(
        'budget_exceeded',
        `${who} has reached its budget of $${dollars(r.limit)} for the ${r.subject.budgetPeriod === 'total' ? 'lifetime' : r.subject.budgetPeriod}.`,
        headers,
        retryAfterMs,
      );
  }
}

/** Micro-dollars as dollars, with cents always and sub-cent digits only when set: 2.00, 0.0024. */
function dollars(micro: number): string {
  return (micro / 1e6).toFixed(6).replace(/(\.\d\d\d*?)0+$/, '$1');
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
