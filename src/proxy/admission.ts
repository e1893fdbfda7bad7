import type { IncomingHttpHeaders } from 'node:http';
import { type AppError, errors } from '../errors.js';
import { endpointAllowed, modelAllowed } from '../limits/allowlist.js';
import type { RateState, Refusal } from '../limits/limits.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { PricingTable } from '../usage/pricing.js';

/** Request bodies up to this size are read when a limit or rewrite needs what is inside. */
export const MAX_INSPECTED_BODY = 16 * 1024 * 1024;

/**
 * Longest model name the proxy reads (OpenAI's are under 100 characters, fine-tuned ones included).
 * A longer one is refused where the proxy must read the model, and never stored or matched.
 */
export const MAX_MODEL_LENGTH = 256;

/** Output tokens assumed for TPM and budget reservations when a request sets no maximum. */
export const DEFAULT_OUTPUT_ESTIMATE = 256;

/** What the proxy reads from a request body without changing it. */
export interface BodyFacts {
  model: string | undefined;
  /** The body named a model longer than MAX_MODEL_LENGTH (then `model` is undefined). */
  modelTooLong: boolean;
  /** max_tokens / max_completion_tokens / max_output_tokens, when set. */
  maxOutputTokens: number | undefined;
  /** Completions generated, each up to the maximum: `n` (chat, completions) or `best_of` (completions). */
  choices: number;
  bytes: number;
}

/**
 * Endpoints whose responses report usage but not the model (transcriptions, image generation and
 * edits): their bodies are read (parsed only if needed) so that usage is priced by the request's model.
 */
export const MODEL_IN_REQUEST_ONLY = new Set([
  '/v1/audio/transcriptions',
  '/v1/audio/translations',
  '/v1/images/generations',
  '/v1/images/edits',
]);

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
  const facts: BodyFacts = {
    model: undefined,
    modelTooLong: false,
    maxOutputTokens: undefined,
    choices: 1,
    bytes: body.length,
  };
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
      for (const k of ['n', 'best_of']) {
        const v = json[k];
        if (typeof v === 'number' && Number.isInteger(v) && v > facts.choices) facts.choices = v;
      }
    } catch {}
  } else if (type.startsWith('multipart/form-data')) {
    facts.model = multipartField(body, type, 'model');
  }
  if (facts.model !== undefined && facts.model.length > MAX_MODEL_LENGTH) {
    facts.model = undefined;
    facts.modelTooLong = true;
  }
  return facts;
}

/**
 * The value of a small text field in a multipart body (the model name), read as latin1-safe text.
 * Only the `name` parameter of a part's Content-Disposition counts (not `filename="model"`), and a
 * field sent twice is unreadable: which copy the upstream would use cannot be known.
 */
function multipartField(body: Buffer, contentType: string, name: 'model'): string | undefined {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const text = body.toString('latin1');
  const named = new RegExp(`;\\s*name\\s*=\\s*(?:"${name}"|${name})\\s*(?:;|$)`, 'i');
  let found: string | undefined;
  for (const part of text.split(`--${boundary}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd === -1) continue;
    const disposition = /^content-disposition:(.*)$/im.exec(part.slice(0, headerEnd))?.[1];
    if (disposition === undefined || !named.test(disposition)) continue;
    if (found !== undefined) return undefined;
    found = Buffer.from(part.slice(headerEnd + 4).replace(/\r\n$/, ''), 'latin1')
      .toString('utf8')
      .trim();
  }
  return found;
}

/**
 * Endpoint allowlists: every list that applies (token's, project's) must allow the request. Paths
 * with dot segments never get here (request-line.ts refuses them first), so a rule matches the
 * path the upstream serves.
 */
export function checkEndpoint(identity: TokenIdentity, method: string, path: string): AppError | undefined {
  for (const rules of identity.endpointRules) {
    if (!endpointAllowed(rules, method, path)) return errors.endpointNotAllowed(method, path);
  }
  return undefined;
}

/** A model name past MAX_MODEL_LENGTH, where the body was read for a check: a 400 naming `model`. */
export function checkModelName(facts: BodyFacts | undefined): AppError | undefined {
  return facts?.modelTooLong ? errors.modelTooLong(MAX_MODEL_LENGTH) : undefined;
}

/** Model allowlists; a request whose model cannot be read is refused while one is set. */
export function checkModel(identity: TokenIdentity, model: string | undefined): AppError | undefined {
  if (identity.modelRules.length === 0) return undefined;
  if (model === undefined) return errors.modelRequired();
  for (const rules of identity.modelRules) if (!modelAllowed(rules, model)) return errors.modelNotAllowed(model);
  return undefined;
}

/** Under a budget, a model without a price is refused: its cost could not be held against it. */
export function checkPriced(
  identity: TokenIdentity,
  model: string | undefined,
  pricing: PricingTable,
): AppError | undefined {
  if (!model || !identity.limits.some((s) => s.budgetMicroUsd !== null) || pricing.resolve(model)) return undefined;
  return errors.modelNotPriced(model);
}

/** Token and cost estimates reserved before forwarding, settled against actual usage afterwards. */
export function estimate(
  facts: BodyFacts | undefined,
  pricing: PricingTable,
): { tokens: number; costMicroUsd: number } {
  if (!facts) return { tokens: 0, costMicroUsd: 0 };
  const prompt = Math.ceil(facts.bytes / 4);
  const output = (facts.maxOutputTokens ?? DEFAULT_OUTPUT_ESTIMATE) * facts.choices;
  const cost = pricing.cost(facts.model, {
    promptTokens: prompt,
    completionTokens: output,
    cachedTokens: 0,
    reasoningTokens: 0,
  });
  return { tokens: prompt + output, costMicroUsd: cost ?? 0 };
}

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
