import type { NewUsageRow } from '../store/schema.js';

/**
 * Where the usage writer sends its records: the store directly, or a worker thread in front of
 * it. A sink turns the records into one batch (rows, counters, rollups; see batch.ts) and writes
 * it in one transaction, so with a worker even that aggregation leaves the request thread.
 */
export interface UsageSink {
  write(rows: NewUsageRow[]): Promise<void>;
  close(): Promise<void>;
}
