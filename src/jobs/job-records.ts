import { type CapturedUsage, emptyUsage, readBody } from '../proxy/usage-extract.js';
import type { TrackedJobRow } from '../store/schema.js';
import type { PricingTable } from '../usage/pricing.js';
import { type UsageRecord, unbilledRecord } from '../usage/usage-writer.js';
import { jobRecordId } from './job-ids.js';
import type { JobUsage } from './job-kinds.js';
import { batchLineCost } from './job-pricing.js';

/** What a job's record holds of the usage read from an answer: tokens by kind, the other units. */
function usageFields(u: JobUsage): Partial<UsageRecord> {
  return {
    model: u.model,
    promptTokens: u.promptTokens,
    completionTokens: u.completionTokens,
    totalTokens: u.totalTokens,
    cachedTokens: u.cachedTokens,
    reasoningTokens: u.reasoningTokens,
    finishReason: u.finishReason,
    billedUnits: u.units === null ? null : JSON.stringify(u.units),
  };
}

/** A job's record: its fields over a record without usage (each caller sets the usage it found). */
function record(job: TrackedJobRow, id: string, at: number, over: Partial<UsageRecord>): UsageRecord {
  return {
    ...unbilledRecord({
      id,
      tokenId: job.token_id,
      projectId: job.project_id,
      method: 'POST',
      path: job.endpoint,
      model: null,
      status: 200,
      stream: false,
      durationMs: 0,
      createdAt: at,
    }),
    upstreamKeyId: job.upstream_key_id,
    jobId: job.id,
    ...over,
  };
}

/**
 * The record of one line of a batch's output or error file: the line's status code, model and
 * usage from its body, priced at the batch price; its id from the job and the line's custom_id.
 * Undefined for a line that is not a JSON object (nothing can be said of it).
 */
export function batchLineRecord(
  job: TrackedJobRow,
  keyId: string,
  line: string,
  index: number,
  at: number,
  pricing: PricingTable,
): UsageRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const l = parsed as {
    custom_id?: unknown;
    response?: { status_code?: unknown; request_id?: unknown; body?: unknown } | null;
  };
  const key = typeof l.custom_id === 'string' ? `c:${l.custom_id}` : `i:${index}`;
  const u: CapturedUsage = emptyUsage();
  readBody(l.response?.body, u);
  const status = typeof l.response?.status_code === 'number' ? l.response.status_code : 0;
  const reported = u.totalTokens !== null;
  return record(job, jobRecordId(job.id, key, at), at, {
    ...usageFields(u),
    status,
    // Priced, and so recorded, at the batch tier whatever the line's body says.
    serviceTier: 'batch',
    costNanoUsd: reported ? batchLineCost(pricing, u.model, u) : null,
    usageStatus: reported ? 'reported' : 'missing',
    upstreamKeyId: keyId,
    // The line's own request id: what the upstream billed it under.
    upstreamRequestId: typeof l.response?.request_id === 'string' ? l.response.request_id.slice(0, 128) : null,
  });
}

/** The one record of a finished background response's usage (none when it reports no usage). */
export function responseRecord(
  job: TrackedJobRow,
  u: JobUsage,
  at: number,
  pricing: PricingTable,
): UsageRecord | undefined {
  if (u.totalTokens === null) return undefined;
  return record(job, jobRecordId(job.id, 'response', at), at, {
    ...usageFields(u),
    serviceTier: u.serviceTier,
    costNanoUsd: pricing.cost(u.model, u),
    usageStatus: 'reported',
    // A background response is billed under its own id.
    upstreamRequestId: job.id,
  });
}
