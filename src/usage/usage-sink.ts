import type { UsageRecord } from '../store/usage-record.js';

/**
 * Where the usage writer sends its records: the store directly, or a worker thread in front of
 * it. A sink turns the records into one batch (rows, counters, rollups; see batch.ts) and writes
 * it in one transaction, so with a worker even that aggregation leaves the request thread. Writes
 * are idempotent by record id; a sink resolves with how many records were new.
 */
export interface UsageSink {
  write(records: UsageRecord[]): Promise<number>;
  close(): Promise<void>;
}
