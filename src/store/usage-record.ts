import { type NewUsageRow, RECORD_COLUMNS } from './schema.js';

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
}

/**
 * The record's column values in RECORD_COLUMNS order: the one mapping from the domain record to
 * usage_records (the journal's finished lines are these values; `toUsageRow` names them).
 */
export function usageColumnValues(r: UsageRecord): unknown[] {
  return [
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
    r.costMicroUsd,
    r.usageStatus,
    r.createdAt,
  ];
}

/** The usage_records row of a record. */
export function toUsageRow(r: UsageRecord): NewUsageRow {
  const values = usageColumnValues(r);
  const row: Record<string, unknown> = {};
  for (let i = 0; i < RECORD_COLUMNS.length; i++) row[RECORD_COLUMNS[i] as string] = values[i];
  return row as unknown as NewUsageRow;
}
