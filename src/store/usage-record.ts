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
  /** Cost in nano-dollars; null when the model has no price or nothing was measured. */
  costNanoUsd: number | null;
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
  /** The batch or background response this record accounts for (src/jobs/); absent or null for a request. */
  jobId?: string | null;
  /**
   * The upstream's own id of what it answered, for finding the request in the provider's logs and
   * bill: its `x-request-id` (`apim-request-id` from Azure OpenAI), or a realtime response's id.
   * Null when the upstream sent none or nothing was answered upstream.
   */
  upstreamRequestId: string | null;
}

/** What every record names: whose exchange, what it was, how it ended, when. */
export type RecordBase = Pick<
  UsageRecord,
  'id' | 'tokenId' | 'projectId' | 'method' | 'path' | 'model' | 'status' | 'stream' | 'durationMs' | 'createdAt'
>;

/**
 * A record of an exchange that used nothing billable: no tokens, no cost, nothing else measured.
 * Builders off the hot path spread it and set what they know, so a new field has its default here
 * once (the hot path's builder in proxy/accounting.ts writes its literal out, for speed).
 */
export function unbilledRecord(b: RecordBase): UsageRecord {
  return {
    ...b,
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    finishReason: null,
    upstreamMs: null,
    ttfbMs: null,
    bytesIn: 0,
    bytesOut: 0,
    error: null,
    costNanoUsd: 0,
    usageStatus: 'reported',
    upstreamKeyId: null,
    retries: 0,
    servedFrom: null,
    serviceTier: null,
    billedUnits: null,
    upstreamRequestId: null,
  };
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
    cost_nano_usd: r.costNanoUsd,
    usage_status: r.usageStatus,
    created_at: r.createdAt,
    upstream_key_id: r.upstreamKeyId,
    retries: r.retries,
    served_from: r.servedFrom,
    service_tier: r.serviceTier,
    billed_units: r.billedUnits,
    job_id: r.jobId ?? null,
    upstream_request_id: r.upstreamRequestId,
  };
}
