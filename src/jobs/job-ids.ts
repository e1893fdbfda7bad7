import { createHash } from 'node:crypto';

/**
 * The id of a usage record of a job: laid out as a UUIDv7 whose time is `at` (the job's
 * `recorded_at`) and whose other bits are a hash of the job id and the line's key (`custom_id`, or
 * the line's index when a line has none). The same line recorded twice (a recorder that stopped
 * midway, taken over) gets the same id and time, so the store skips it: the store's key is the id
 * (and the time, on partitioned PostgreSQL). Time-ordered like every other record id, so lists by
 * id still read newest first.
 */
export function jobRecordId(jobId: string, key: string, at: number): string {
  const h = createHash('sha256').update(jobId).update('\n').update(key).digest('hex');
  const ts = at.toString(16).padStart(12, '0').slice(-12);
  const variant = ((Number.parseInt(h.slice(3, 4), 16) & 0x3) | 0x8).toString(16);
  return `${ts.slice(0, 8)}-${ts.slice(8)}-7${h.slice(0, 3)}-${variant}${h.slice(4, 7)}-${h.slice(7, 19)}`;
}
