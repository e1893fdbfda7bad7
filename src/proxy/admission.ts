import type { IncomingHttpHeaders } from 'node:http';
import { type AppError, errors } from '../errors.js';
import { endpointAllowed, modelAllowed } from '../limits/allowlist.js';
import type { RateState, Refusal } from '../limits/limits.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { PricingTable } from '../usage/pricing.js';

/** Request bodies up to this size are read when a limit or rewrite needs what is inside. */
export const MAX_INSPECTED_BODY = 16 * 1024 * 1024;

/** Output tokens assumed for TPM and budget reservations when a request sets no maximum. */
export const DEFAULT_OUTPUT_ESTIMATE = 256;

/** What the proxy reads from a request body without changing it. */
export interface BodyFacts {
  model: string | undefined;
  /** max_tokens / max_completion_tokens / max_output_tokens, when set. */
  maxOutputTokens: number | undefined;
  bytes: number;
}

/** Whether this request's body must be read before forwarding (to check or estimate something). */
export function needsBody(identity: TokenIdentity): boolean {
  return (
    identity.modelRules.length > 0 ||
    identity.limits.some((s) => s.tokensPerMinute !== null || s.budgetMicroUsd !== null)
  );
}

/**
 * Reads model and output cap from a JSON body, or the `model` field of a multipart form, without
 * changing the bytes. Anything unreadable yields no model (the upstream judges the body).
 */
export function bodyFacts(body: Buffer, headers: IncomingHttpHeaders): BodyFacts {
  const type = String(headers['content-type'] ?? '');
  const facts: BodyFacts = { model: undefined, maxOutputTokens: undefined, bytes: body.length };
  if (type.includes('json')) {
    try {
      const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (typeof json.model === 'string') facts.model = json.model;
      for (const k of ['max_completion_tokens', 'max_tokens', 'max_output_tokens']) {
        if (typeof json[k] === 'number') {
          facts.maxOutputTokens = json[k] as number;
          break;
        }
      }
    } catch {}
  } else if (type.startsWith('multipart/form-data')) {
    facts.model = multipartField(body, type, 'model');
  }
  return facts;
}

/** The value of a small text field in a multipart body (the model name), read as latin1-safe text. */
function multipartField(body: Buffer, contentType: string, name: string): string | undefined {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const text = body.toString('latin1');
  const marker = `name="${name}"`;
  for (const part of text.split(`--${boundary}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd === -1 || !part.slice(0, headerEnd).includes(marker)) continue;
    const value = part.slice(headerEnd + 4).replace(/\r\n$/, '');
    return Buffer.from(value, 'latin1').toString('utf8').trim();
  }
  return undefined;
}

/** Endpoint allowlists: every list that applies (token's, project's) must allow the request. */
export function checkEndpoint(identity: TokenIdentity, method: string, path: string): AppError | undefined {
  for (const rules of identity.endpointRules) {
    if (!endpointAllowed(rules, method, path)) return errors.endpointNotAllowed(method, path);
  }
  return undefined;
}

/** Model allowlists; a request whose model cannot be read is refused while one is set. */
export function checkModel(identity: TokenIdentity, model: string | undefined): AppError | undefined {
  if (identity.modelRules.length === 0) return undefined;
  if (model === undefined) return errors.modelRequired();
  for (const rules of identity.modelRules) if (!modelAllowed(rules, model)) return errors.modelNotAllowed(model);
  return undefined;
}

/** Token and cost estimates reserved before forwarding, settled against actual usage afterwards. */
export function estimate(
  facts: BodyFacts | undefined,
  pricing: PricingTable,
): { tokens: number; costMicroUsd: number } {
  if (!facts) return { tokens: 0, costMicroUsd: 0 };
  const prompt = Math.ceil(facts.bytes / 4);
  const output = facts.maxOutputTokens ?? DEFAULT_OUTPUT_ESTIMATE;
  const cost = pricing.cost(facts.model, {
    promptTokens: prompt,
    completionTokens: output,
    cachedTokens: 0,
    reasoningTokens: 0,
  });
  return { tokens: prompt + output, costMicroUsd: cost ?? 0 };
}

/** A limiter refusal as a 429 with Retry-After and the proxy's own OpenAI-style rate-limit headers. */
export function refusalError(r: Refusal, rate: RateState): AppError {
  const who = r.subject.kind === 'token' ? 'This token' : "This token's project";
  const headers: Record<string, string> = rateHeaders(rate);
  if (r.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(r.retryAfterMs / 1000)));
  switch (r.kind) {
    case 'requests':
      return errors.limitReached('request_limit_reached', `${who} has used all of its ${r.limit} requests.`, headers);
    case 'requests_per_minute':
      return errors.limitReached(
        'rate_limit_exceeded',
        `${who} is limited to ${r.limit} requests per minute.`,
        headers,
      );
    case 'tokens_per_minute':
      return errors.limitReached(
        'tokens_rate_limit_exceeded',
        `${who} is limited to ${r.limit} tokens per minute.`,
        headers,
      );
    case 'budget':
      return errors.limitReached(
        'budget_exceeded',
        `${who} has reached its budget of $${(r.limit / 1e6).toFixed(2)} for the ${r.subject.budgetPeriod === 'total' ? 'lifetime' : r.subject.budgetPeriod}.`,
        headers,
      );
  }
}

/** `x-ratelimit-*` headers in OpenAI's format (reset as a duration such as `1.5s` or `6m0s`). */
export function rateHeaders(rate: RateState): Record<string, string> {
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
