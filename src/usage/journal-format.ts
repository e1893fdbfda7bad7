import { type NewUsageRow, RECORD_COLUMN_SET, RECORD_COLUMNS } from '../store/schema.js';
import type { ServedFrom, UsageRecord, UsageStatus } from '../store/usage-record.js';

/**
 * The usage journal's line format: one JSON array per line, the first element its kind.
 *
 *   ["v", 2, [field names]]                       header: the format version, the field order of "f" lines
 *   ["a", id, token, project, method, path, model, estimated tokens, estimated n$, time]
 *   ["f", value of each header field…]            the finished usage record
 *
 * Positional arrays keep lines short and cheap to build; the header lets a newer version replay a
 * segment written by an older one by field name. Version 1 counted money in micro-dollars (the
 * admission's estimate, and the field `cost_micro_usd`); a segment of it, left by a crash just
 * before an upgrade, is replayed in nano-dollars (× 1000).
 */

/** What the proxy knows of a request when it lets it through, journaled before the upstream is called. */
export interface AdmittedUsage {
  /** The request id, which becomes the usage record's id. */
  id: string;
  tokenId: string;
  projectId: string;
  method: string;
  path: string;
  model: string | null;
  estimatedTokens: number;
  estimatedCostNanoUsd: number;
  /** Epoch milliseconds. */
  at: number;
}

export const JOURNAL_VERSION = 2;

/** Nano-dollars per unit of money in a segment of the given version. */
const moneyScale = (version: number) => (version < 2 ? 1000 : 1);

/** The record's fields in the journal's column order: the store's column list. */
export const RECORD_FIELDS = RECORD_COLUMNS;

export const headerLine = (): string => `${JSON.stringify(['v', JOURNAL_VERSION, RECORD_FIELDS])}\n`;

export function admittedLine(a: AdmittedUsage): string {
  return `${JSON.stringify(['a', a.id, a.tokenId, a.projectId, a.method, a.path, a.model, a.estimatedTokens, a.estimatedCostNanoUsd, a.at])}\n`;
}

/**
 * The record's column values in RECORD_FIELDS order (its `toUsageRow` row, to which journal.test.ts
 * holds this), after the kind: one literal array and one stringify, whose output is a flat string
 * the journal's write copies as is. (A template literal costs as much to build and leaves a string
 * of many pieces that the write then has to walk.)
 */
export function finishedLine(r: UsageRecord): string {
  return `${JSON.stringify([
    'f',
    r.id,
    r.id,
    r.tokenId,
    r.projectId,
    r.method,
    r.path,
    r.model,
    r.status,
    r.stream ? 1 : 0,
    r.promptTokens,
    r.completionTokens,
    r.totalTokens,
    r.cachedTokens,
    r.reasoningTokens,
    r.finishReason,
    r.upstreamMs,
    r.ttfbMs,
    r.durationMs,
    r.bytesIn,
    r.bytesOut,
    r.error,
    r.costNanoUsd,
    r.usageStatus,
    r.createdAt,
    r.upstreamKeyId,
    r.retries,
    r.servedFrom,
    r.serviceTier,
    r.billedUnits,
    r.jobId ?? null,
    r.upstreamRequestId,
  ])}\n`;
}

/** What the segments of a journal say, merged: the latest line per record id wins. */
export interface JournalContents {
  admitted: Map<string, AdmittedUsage>;
  finished: Map<string, NewUsageRow>;
  /** Lines that could not be read (a line torn by an OS crash, a disk error). */
  badLines: number;
}

export const emptyContents = (): JournalContents => ({ admitted: new Map(), finished: new Map(), badLines: 0 });

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Adds one segment's lines to `into`. */
export function parseSegment(text: string, into: JournalContents): void {
  let fields: readonly string[] = RECORD_FIELDS;
  let scale = 1;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      into.badLines++;
      continue;
    }
    if (!Array.isArray(v)) {
      into.badLines++;
      continue;
    }
    if (v[0] === 'v' && Array.isArray(v[2]) && v[2].every(isStr)) {
      fields = v[2];
      scale = moneyScale(isNum(v[1]) ? v[1] : JOURNAL_VERSION);
    } else if (v[0] === 'a' && isStr(v[1]) && isStr(v[2]) && isStr(v[3]) && isNum(v[9])) {
      into.admitted.set(v[1], {
        id: v[1],
        tokenId: v[2],
        projectId: v[3],
        method: isStr(v[4]) ? v[4] : 'GET',
        path: isStr(v[5]) ? v[5] : '',
        model: isStr(v[6]) ? v[6] : null,
        estimatedTokens: isNum(v[7]) ? v[7] : 0,
        estimatedCostNanoUsd: isNum(v[8]) ? v[8] * scale : 0,
        at: v[9],
      });
    } else if (v[0] === 'f') {
      const rec = finishedRecord(v, fields);
      if (rec) into.finished.set(rec.id, rec);
      else into.badLines++;
    } else into.badLines++;
  }
}

/** The row of an "f" line (the array after JSON.parse), its fields named by `fields`; undefined if malformed. */
export function finishedRecord(v: unknown[], fields: readonly string[]): NewUsageRow | undefined {
  const r: Record<string, unknown> = {};
  for (const f of RECORD_FIELDS) r[f] = null;
  fields.forEach((f, i) => {
    if (f in RECORD_COLUMN_SET) r[f] = v[i + 1] ?? null;
    // Written by a version that counted micro-dollars (journal version 1).
    else if (f === 'cost_micro_usd') r.cost_nano_usd = isNum(v[i + 1]) ? (v[i + 1] as number) * 1000 : null;
  });
  const ok =
    isStr(r.id) &&
    isStr(r.token_id) &&
    isStr(r.project_id) &&
    isStr(r.method) &&
    isStr(r.path) &&
    isStr(r.usage_status) &&
    isNum(r.status) &&
    isNum(r.created_at);
  if (!ok) return undefined;
  r.request_id ??= r.id;
  r.is_stream ??= 0;
  r.duration_ms ??= 0;
  r.bytes_in ??= 0;
  r.bytes_out ??= 0;
  r.retries ??= 0;
  return r as unknown as NewUsageRow;
}

/**
 * The record of a request that was let through but whose end the process did not live to see.
 * Nothing was measured, so it carries what admission knew: who, what, when, and the cost the
 * budget reserved for it (the prompt estimate plus the output allowance: an upper bound), which
 * keeps budgets as tight after the crash as they were before it. Status 0: no complete response
 * was recorded; `error: 'interrupted'` counts it as an error in the rollups.
 */
export function unfinishedRecord(a: AdmittedUsage): NewUsageRow {
  return {
    id: a.id,
    request_id: a.id,
    token_id: a.tokenId,
    project_id: a.projectId,
    method: a.method,
    path: a.path,
    model: a.model,
    status: 0,
    is_stream: 0,
    prompt_tokens: null,
    completion_tokens: null,
    total_tokens: null,
    cached_tokens: null,
    reasoning_tokens: null,
    finish_reason: null,
    upstream_ms: null,
    ttfb_ms: null,
    duration_ms: 0,
    bytes_in: 0,
    bytes_out: 0,
    error: 'interrupted',
    cost_nano_usd: a.estimatedCostNanoUsd > 0 ? a.estimatedCostNanoUsd : null,
    usage_status: 'unfinished',
    created_at: a.at,
    upstream_key_id: null,
    retries: 0,
    served_from: null,
    service_tier: null,
    billed_units: null,
    job_id: null,
    upstream_request_id: null,
  };
}

/** The domain record of a journaled row (toUsageRow's inverse): what the usage writer sends to its sink. */
export function recordOfRow(r: NewUsageRow): UsageRecord {
  return {
    id: r.id,
    tokenId: r.token_id,
    projectId: r.project_id,
    method: r.method,
    path: r.path,
    model: r.model ?? null,
    status: r.status,
    stream: r.is_stream === 1,
    promptTokens: r.prompt_tokens ?? null,
    completionTokens: r.completion_tokens ?? null,
    totalTokens: r.total_tokens ?? null,
    cachedTokens: r.cached_tokens ?? null,
    reasoningTokens: r.reasoning_tokens ?? null,
    finishReason: r.finish_reason ?? null,
    upstreamMs: r.upstream_ms ?? null,
    ttfbMs: r.ttfb_ms ?? null,
    durationMs: r.duration_ms,
    bytesIn: r.bytes_in,
    bytesOut: r.bytes_out,
    error: r.error ?? null,
    costNanoUsd: r.cost_nano_usd ?? null,
    usageStatus: r.usage_status as UsageStatus,
    createdAt: r.created_at,
    upstreamKeyId: r.upstream_key_id ?? null,
    retries: r.retries ?? 0,
    servedFrom: (r.served_from as ServedFrom | null | undefined) ?? null,
    serviceTier: r.service_tier ?? null,
    billedUnits: r.billed_units ?? null,
    // Only a job's record has the field (a request's record is built without it).
    ...(r.job_id ? { jobId: r.job_id } : {}),
    upstreamRequestId: r.upstream_request_id ?? null,
  };
}
