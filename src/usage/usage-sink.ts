import type { NewUsageRow } from '../store/schema.js';
import type { TokenUse } from '../store/usage-repo.js';

/** Where the usage writer sends its batches: the store directly, or a worker thread in front of it. */
export interface UsageSink {
  writeBatch(rows: NewUsageRow[], uses: TokenUse[]): Promise<void>;
  close(): Promise<void>;
}
