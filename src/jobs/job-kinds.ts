import type { CapturedUsage } from '../proxy/usage-extract.js';

/** What the follower follows: batches (`/v1/batches`) and background responses (`/v1/responses`). */
export type JobKind = 'batch' | 'response';

/**
 * Usage as the proxy reads it from a response body (proxy/usage-extract.ts): tokens by kind, the
 * other billed units and the service tier, whichever path saw it (a retrieval or the poll).
 */
export type JobUsage = CapturedUsage;

/** A job the proxy saw created. */
export interface JobStart {
  kind: JobKind;
  id: string;
  status: string;
  tokenId: string;
  projectId: string;
  upstreamKeyId: string | null;
  /** A batch's endpoint (the path of its lines), or `/v1/responses`. */
  endpoint: string;
  /** A batch's `completion_window` (`24h`). */
  completionWindow?: string;
}

/** A job the proxy saw retrieved (or cancelled), with the usage the answer carried. */
export interface JobSighting {
  kind: JobKind;
  id: string;
  status: string;
  usage?: JobUsage;
}

const BATCH_ENDED = new Set(['completed', 'cancelled', 'expired', 'failed']);
const RESPONSE_ENDED = new Set(['completed', 'cancelled', 'failed', 'incomplete']);

/** Whether a job in this upstream status has finished (its usage will not change any more). */
export function isFinished(kind: JobKind, status: string): boolean {
  return (kind === 'batch' ? BATCH_ENDED : RESPONSE_ENDED).has(status);
}
