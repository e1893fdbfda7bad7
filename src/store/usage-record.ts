import type { NewUsageRow } from './schema.js';

/** How a record's token counts were obtained. `unfinished`: the process died before the request ended. */
export type UsageStatus = 'reported' | 'estimated' | 'missing' | 'unfinished';

/**
 * One proxied request's usage, as the proxy and the usage writer speak of it. The store maps it to
 * its columns (`usageColumnValues`, `toUsageRow`); nothing above the store knows them.
 */
export interface UsageRecord {
  /** The request id: time-ordered (UUIDv7), so inserts append to the index. */
  id: string;
  tokenId: string;
  projectId: string;
  method: string;
  path: string;
  model: string | null;
  /** The client's status: the upstream's, the proxy's own 502/504, or 499 when the client left first. */
  status: number;
  stream: boolean;
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  finishReason: string | null;
  /** From sending the request to the upstream's headers. */
  upstreamMs: number | null;
  /** From the request's arrival to the first body byte sent to the client. */
  ttfbMs: number | null;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  /** Why the exchange failed or was cut, as a catalogue code; null when it ended normally. */
  error: string | null;
  /** Cost in micro-dollars; null when the model has no price or nothing was measured. */
  costMicroUsd: number | null;
  usageStatus: UsageStatus;
  /** Epoch milliseconds (the runtime's clock) when the request was accounted. */
  createdAt: number;
  /** The project key the request was sent with; null when it was not sent upstream. */
  upstreamKeyId: string | null;
  /** Times the request was sent again after a failed attempt (proxy/failover.ts); 0 when sent once. */
  retries: number;
  /** Where the answer came from: null the upstream, else a stored response (replay.ts). */
  servedFrom: ServedFrom | null;
  /** The response's `service_tier` (`default`, `flex`, `priority`…); null when it reported none. */
  serviceTier: string | null;
  /**
   * JSON of the units billed besides text tokens (usage/cost.ts `BilledUnits`: images, seconds,
   * characters, tool calls, audio and image tokens); null when none. Built once, by accounting.
   */
  billedUnits: string | null;
}

/** A stored answer: the response cache's, or an earlier request's with the same Idempotency-Key. */
export type ServedFrom = 'cache' | 'idempotent_replay';

/**
 * The usage_records row of a record: the one mapping from the domain record to its columns. A
 * literal in column order, so every row has one shape (the usage worker maps thousands a second).
 */
export function toUsageRow(r: UsageRecord): NewUsageRow {
  return {
    id: r.id,
    request_id: r.id,
    token_id: r.tokenId,
    project_id: r.projectId,
    method: r.method,
    path: r.path,
    model: r.model,
    status: r.status,
    is_stream: r.stream ? 1 : 0,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.totalTokens,
    cached_tokens: r.cachedTokens,
    reasoning_tokens: r.reasoningTokens,
    finish_reason: r.finishReason,
    upstream_ms: r.upstreamMs,
    ttfb_ms: r.ttfbMs,
    duration_ms: r.durationMs,
    bytes_in: r.bytesIn,
    bytes_out: r.bytesOut,
    error: r.error,
    cost_micro_usd: r.costMicroUsd,
    usage_status: r.usageStatus,
    created_at: r.createdAt,
    upstream_key_id: r.upstreamKeyId,
    retries: r.retries,
    served_from: r.servedFrom,
    service_tier: r.serviceTier,
    billed_units: r.billedUnits,
  };
}
