import type { UsageRecord } from '../store/usage-record.js';
import { nanoToMicroUsd } from '../usage/usage-totals.js';

/** The schema name every shipped event carries; a new major shape gets a new name (…/v2), never an edit. */
export const USAGE_EVENT_SCHEMA = 'llm-proxy.usage/v1';

/**
 * One finished proxied exchange, as it leaves the proxy for a sink (docs/observability.md, "Usage
 * event, schema v1", describes every field; a test holds the two together). Fields are only ever
 * added to v1, never renamed, retyped or removed. `null` means "not measured" (a request that never
 * reached the upstream has no `upstream_ms`), never zero.
 */
export interface UsageEventV1 {
  schema: typeof USAGE_EVENT_SCHEMA;
  /** Unique per event and stable across resends: the request id (UUIDv7, `x-llm-proxy-request-id`). */
  id: string;
  /** When the exchange was accounted, RFC 3339 UTC with milliseconds. */
  time: string;
  token_id: string;
  project_id: string;
  method: string;
  /** Request path without the query string. */
  path: string;
  model: string | null;
  /** The status the client got: the upstream's, the proxy's 502/504, or 499 when the client left first. */
  status: number;
  stream: boolean;
  /** `reported` by the upstream, `estimated` from a cut stream, or `missing`. */
  usage_status: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  /** Cost in millionths of a US dollar, rounded; null when the model has no price or nothing was measured. */
  cost_micro_usd: number | null;
  finish_reason: string | null;
  /** The catalogue code of what cut or failed the exchange; null when it ended normally. */
  error: string | null;
  upstream_ms: number | null;
  ttfb_ms: number | null;
  duration_ms: number;
  bytes_in: number;
  bytes_out: number;
  /** The project's upstream key the request was sent with (its id, never the key); null when none was. */
  upstream_key_id: string | null;
  /** The service tier the upstream reported (`default`, `flex`, `priority`…); null when none. */
  service_tier: string | null;
  /** JSON text of the units billed besides text tokens (images, seconds, characters, tool calls, audio and image tokens); null when none. */
  billed_units: string | null;
  /** The upstream's id of its answer (`x-request-id`; a realtime response's id); null when none came. */
  upstream_request_id: string | null;
  /** The exact cost, in billionths of a US dollar; null as `cost_micro_usd` is. */
  cost_nano_usd: number | null;
}

/** How each field is typed where a sink needs to say so (OTLP attributes): the one list of the fields. */
export const USAGE_EVENT_FIELDS: Record<keyof UsageEventV1, 'string' | 'int' | 'double' | 'bool'> = {
  schema: 'string',
  id: 'string',
  time: 'string',
  token_id: 'string',
  project_id: 'string',
  method: 'string',
  path: 'string',
  model: 'string',
  status: 'int',
  stream: 'bool',
  usage_status: 'string',
  prompt_tokens: 'int',
  completion_tokens: 'int',
  total_tokens: 'int',
  cached_tokens: 'int',
  reasoning_tokens: 'int',
  cost_micro_usd: 'int',
  finish_reason: 'string',
  error: 'string',
  upstream_ms: 'double',
  ttfb_ms: 'double',
  duration_ms: 'double',
  bytes_in: 'int',
  bytes_out: 'int',
  upstream_key_id: 'string',
  service_tier: 'string',
  billed_units: 'string',
  upstream_request_id: 'string',
  cost_nano_usd: 'int',
};

/** The v1 event of a finished exchange's usage record. */
export function toUsageEvent(r: UsageRecord): UsageEventV1 {
  return {
    schema: USAGE_EVENT_SCHEMA,
    id: r.id,
    time: new Date(r.createdAt).toISOString(),
    token_id: r.tokenId,
    project_id: r.projectId,
    method: r.method,
    path: r.path,
    model: r.model,
    status: r.status,
    stream: r.stream,
    usage_status: r.usageStatus,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.totalTokens,
    cached_tokens: r.cachedTokens,
    reasoning_tokens: r.reasoningTokens,
    cost_micro_usd: r.costNanoUsd === null ? null : nanoToMicroUsd(r.costNanoUsd),
    finish_reason: r.finishReason,
    error: r.error,
    upstream_ms: r.upstreamMs,
    ttfb_ms: r.ttfbMs,
    duration_ms: r.durationMs,
    bytes_in: r.bytesIn,
    bytes_out: r.bytesOut,
    upstream_key_id: r.upstreamKeyId,
    service_tier: r.serviceTier,
    billed_units: r.billedUnits,
    upstream_request_id: r.upstreamRequestId,
    cost_nano_usd: r.costNanoUsd,
  };
}

/** A spilled line read back: an event of this schema, or undefined for anything else (a torn line). */
export function parseUsageEvent(line: string): UsageEventV1 | undefined {
  try {
    const v = JSON.parse(line) as Partial<UsageEventV1> | null;
    return v && v.schema === USAGE_EVENT_SCHEMA && typeof v.id === 'string' ? (v as UsageEventV1) : undefined;
  } catch {
    return undefined;
  }
}
